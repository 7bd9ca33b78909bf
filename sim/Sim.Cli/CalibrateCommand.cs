using System.CommandLine;
using System.Globalization;
using Sim.Calibration;
using Sim.Config;
using Sim.Topology;
using Sim.Validation;
using Spectre.Console;

namespace Sim.Cli;

/// <summary>`sim calibrate` and `sim validate`: fit the cost models to measurements, and say how far off predictions are.</summary>
public static class CalibrateCommand
{
    public static IReadOnlyList<MeasurementFile> ReadMeasurements(IEnumerable<string> paths) =>
        paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p, "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray() : new[] { p })
             .SelectMany(p => MeasurementJson.ReadFile(p).Select(m => new MeasurementFile(YamlDocument.DisplayName(p), m)))
             .ToList();

    public static Command Calibrate(TextWriter stdout)
    {
        var runs = new Argument<string[]>("runs") { Description = "measurement files or folders (validation/runs/...)", Arity = ArgumentArity.OneOrMore };
        var topology = new Option<string>("--topology") { Description = "the measured machine's topology (peak rates and link speeds)", Required = true };
        var output = new Option<string>("--out") { Description = "profile file to write", Required = true };
        var cmd = new Command("calibrate", "Fit the cost models' parameters to measurements of one card and software stack.") { runs, topology, output };
        cmd.SetAction(r =>
        {
            var cluster = TopologyLoader.Load(r.GetValue(topology)!);
            var files = ReadMeasurements(r.GetValue(runs)!);
            var profile = Calibrator.Fit(cluster, YamlDocument.DisplayName(r.GetValue(topology)!), files);
            AtomicFile.WriteAllText(r.GetValue(output)!, CalibrationProfileJson.Write(profile) + "\n");
            var inv = CultureInfo.InvariantCulture;
            var console = Terminal.For(stdout);
            stdout.WriteLine($"{profile.Card} x{profile.GpuCount}, {profile.Software}: {files.Count} measurement(s)");
            var t = new Table().AddColumns("fitted quantity", "points", "mean |error|", "max |error|");
            foreach (var res in profile.Residuals)
                t.AddRow(res.Quantity, res.Points.ToString(inv), res.MeanAbsoluteRelativeError.ToString("P1", inv), res.MaxAbsoluteRelativeError.ToString("P1", inv));
            console.Write(t);
            var p = profile.Parameters;
            stdout.WriteLine($"GEMM efficiency {p.GemmEfficiency:0.000} (half at {p.GemmHalfSaturationFlops:0.###e0} FLOPs); embedding fwd/bwd efficiency {p.EmbeddingEfficiency:0.000}/{p.EmbeddingBackwardEfficiency:0.000}; kernel overhead {Units.Seconds(p.KernelOverheadSeconds)}");
            stdout.WriteLine($"profile written to {r.GetValue(output)}");
            return 0;
        });
        return cmd;
    }

    public static Command Validate(TextWriter stdout)
    {
        var runs = new Argument<string[]>("runs") { Description = "measurement files or folders", Arity = ArgumentArity.OneOrMore };
        var profileOpt = new Option<string?>("--profile") { Description = "calibration profile (from sim calibrate); without it the uncalibrated defaults are judged" };
        var cross = new Option<bool>("--cross-validate") { Description = "also predict each plan from a profile fitted without it, and 4-GPU runs from 2-GPU data" };
        var topology = new Option<string?>("--topology") { Description = "topology for --cross-validate (default: the profile's)" };
        var maxMape = new Option<double?>("--max-mape") { Description = "exit 1 when the iteration MAPE (percent) is above this" };
        var plot = new Option<string?>("--plot") { Description = "draw predicted vs measured (.png or .svg)" };
        var phases = new Option<bool>("--phases") { Description = "print per-phase measured and predicted seconds" };
        var cmd = new Command("validate", "Predict every measured plan and compare: per run, per phase, MAPE, max error, Kendall tau.")
        {
            runs, profileOpt, cross, topology, maxMape, plot, phases,
        };
        cmd.SetAction(r =>
        {
            var files = ReadMeasurements(r.GetValue(runs)!);
            var profile = r.GetValue(profileOpt) is { } pp ? CalibrationProfileJson.Read(pp) : null;
            var report = Validator.Compare(run => Validator.ForRun(profile, run), Validator.Runs(files), profile is null ? "uncalibrated defaults" : "profile");
            var reports = new List<ValidationReport> { report };
            if (r.GetValue(cross))
            {
                var topoPath = r.GetValue(topology) ?? profile?.Topology
                    ?? throw new SimInputException("--topology", "", "cross-validation needs the measured machine's topology (--topology or a --profile)");
                var cluster = TopologyLoader.Load(topoPath);
                reports.Add(Validator.LeaveOnePlanOut(cluster, topoPath, files));
                reports.Add(Validator.Extrapolate(cluster, topoPath, files, 2, 4));
            }
            foreach (var rep in reports) Render(rep, stdout, r.GetValue(phases));
            if (r.GetValue(plot) is { } plotPath) { ValidationPlot.Save(plotPath, reports); stdout.WriteLine($"plot written to {plotPath}"); }
            if (r.GetValue(maxMape) is { } limit && report.AnalyticalMape * 100 > limit)
            {
                Console.Error.WriteLine($"error: iteration MAPE {report.AnalyticalMape * 100:0.00}% is above --max-mape {limit}");
                return 1;
            }
            return 0;
        });
        return cmd;
    }

    private static void Render(ValidationReport rep, TextWriter stdout, bool phases)
    {
        var inv = CultureInfo.InvariantCulture;
        var console = Terminal.For(stdout);
        stdout.WriteLine();
        stdout.WriteLine($"== {rep.Label}: {rep.Runs.Count} run(s)");
        var t = new Table().AddColumns("plan", "GPUs", "measured", "analytical", "error", "event", "error");
        foreach (var c in t.Columns.Skip(1)) c.RightAligned();
        foreach (var x in rep.Runs)
            t.AddRow(Markup.Escape(x.Plan), x.Gpus.ToString(inv), Units.Seconds(x.MeasuredSeconds), Units.Seconds(x.AnalyticalSeconds),
                x.AnalyticalError.ToString("+0.0%;-0.0%", inv), Units.Seconds(x.EventSeconds), x.EventError.ToString("+0.0%;-0.0%", inv));
        console.Write(t);
        if (phases)
        {
            var pt = new Table().AddColumn("run");
            foreach (var ph in Engine.Phases.All) pt.AddColumn(new TableColumn(ph).RightAligned());
            foreach (var x in rep.Runs)
            {
                pt.AddRow([Markup.Escape(x.Plan) + " measured", .. x.MeasuredPhases.Select(Units.Seconds)]);
                pt.AddRow(["  predicted", .. x.PredictedPhases.Select(Units.Seconds)]);
            }
            console.Write(pt);
        }
        var (agree, groups) = rep.BestPlanAgreement;
        stdout.WriteLine($"iteration MAPE: analytical {rep.AnalyticalMape:P2}, event {rep.EventMape:P2}; max |error| {rep.MaxAbsError:P2}; " +
                         $"Kendall tau {(double.IsNaN(rep.KendallTau) ? "n/a" : rep.KendallTau.ToString("0.000", inv))}; best plan predicted in {agree} of {groups} group(s)");
    }
}
