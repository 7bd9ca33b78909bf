using System.CommandLine;
using System.Globalization;
using Sim.Calibration;
using Sim.Config;
using Sim.Topology;
using Sim.Traces;
using Spectre.Console;
using Sim.Cost.Operators;
using Sim.Profiles;
using Sim.Measurements;

namespace Sim.Cli;

/// <summary>`sim calibrate` and `sim validate`: fit the cost models to measurements, and say how far off predictions are.</summary>
internal static class CalibrateCommand
{
    public static IReadOnlyList<MeasurementFile> ReadMeasurements(IEnumerable<string> paths) =>
        InputPaths.Files(paths, "*.json")
             .SelectMany(p => MeasurementJson.ReadFile(p).Select(m => new MeasurementFile(YamlDocument.DisplayName(p), m)))
             .ToList();

    public static Command Calibrate(TextWriter stdout)
    {
        var runs = new Argument<string[]>("runs") { Description = "measurement files or folders (validation/runs/...)", Arity = ArgumentArity.ZeroOrMore };
        var topology = new Option<string>("--topology") { Description = "the measured machine's topology (peak rates and link speeds)", Required = true };
        var traces = TraceInputs.TraceOption("PyTorch profiler (Kineto) trace JSON files (.json or .json.gz) or folders: their kernels, mapped to Sim's operators, are fitted as microbenchmarks are");
        var stack = TraceInputs.StackOption();
        var optimizer = TraceInputs.OptimizerOption();
        var output = new Option<string>("--out") { Description = "profile file to write", Required = true };
        var collectivesFrom = new Option<string?>("--collectives-from")
        {
            Description = "take the measured collectives of another profile (a card on the same interconnect, when this machine had too few GPUs to measure them); predictions name where they came from",
        };
        var json = JsonOutput.Option("the fit (residuals, and per trace the mapped and unmapped device time)");
        var cmd = new Command("calibrate", "Fit the cost models' parameters to measurements (or profiler traces) of one card and software stack.")
        {
            runs, topology, output, collectivesFrom, traces, stack, optimizer, json,
        };
        cmd.SetAction(r =>
        {
            var cluster = TopologyLoader.Load(r.GetValue(topology)!);
            var files = ReadMeasurements(r.GetValue(runs)!).ToList();
            var tracePaths = r.GetValue(traces) ?? [];
            if (r.GetValue(runs)!.Length == 0 && tracePaths.Length == 0)
                throw new SimInputException("calibrate", "", "give measurement files (RUNS) or profiler traces (--trace FILE)");
            var traced = new List<(KinetoTrace Trace, TraceOperators Ops)>();
            var st = TraceInputs.StackOf(r.GetValue(stack));
            if (tracePaths.Length > 0)
            {
                foreach (var trace in TraceInputs.Read(tracePaths))
                {
                    var ops = TraceOperators.Of(trace, st, r.GetValue(optimizer)!);
                    if (!r.GetValue(json)) TraceInputs.Report(trace, ops, stdout);
                    traced.Add((trace, ops));
                    files.Add(TraceMeasurements.Micro(trace, ops, st, $"sim calibrate --trace {trace.File} --stack {st}"));
                }
                if (!files.Any(f => f.Measurement.Micro?.Operators?.Any(o => o.Op == OperatorNames.EmbeddingForward) == true))
                    throw new SimInputException(string.Join(", ", tracePaths.Select(YamlDocument.DisplayName)), "traceEvents",
                        "no embedding forward call with recorded shapes (aten::embedding_bag with record_shapes=True): nothing of the stack's operator models can be fitted");
            }
            var profile = Calibrator.Fit(cluster, YamlDocument.DisplayName(r.GetValue(topology)!), files);
            if (r.GetValue(collectivesFrom) is { } from)
                profile = profile.WithCollectivesFrom(CalibrationProfileJson.Read(from), YamlDocument.DisplayName(from));
            AtomicFile.WriteAllText(r.GetValue(output)!, CalibrationProfileJson.Write(profile) + "\n");
            var notFitted = traced.Count > 0 ? TraceInputs.NotFitted(profile, st, r.GetValue(optimizer)!) : [];
            if (r.GetValue(json))
            {
                JsonOutput.Print(stdout, new System.Text.Json.Nodes.JsonObject
                {
                    ["profile"] = r.GetValue(output), ["card"] = profile.Card, ["gpu_count"] = profile.GpuCount, ["software"] = profile.Software,
                    ["measurements"] = files.Count,
                    ["residuals"] = JsonOutput.Array(profile.Residuals, x => new System.Text.Json.Nodes.JsonObject
                    {
                        ["quantity"] = x.Quantity, ["points"] = x.Points, ["mean_abs_relative_error"] = x.MeanAbsoluteRelativeError, ["max_abs_relative_error"] = x.MaxAbsoluteRelativeError,
                    }),
                    ["traces"] = JsonOutput.Array(traced, x => TraceInputs.Json(x.Trace, x.Ops)),
                    ["not_fitted_from_traces"] = JsonOutput.Array(notFitted, n => n),
                });
                return 0;
            }
            foreach (var n in notFitted) stdout.WriteLine($"note: not fitted from the traces: {n}");
            var inv = CultureInfo.InvariantCulture;
            var console = Terminal.For(stdout);
            stdout.WriteLine($"{profile.Card} x{profile.GpuCount}, {profile.Software}: {files.Count} measurement(s)");
            var t = new Table().AddColumns("fitted quantity", "points", "mean |error|", "max |error|");
            foreach (var res in profile.Residuals)
                t.AddRow(Markup.Escape(res.Quantity), res.Points.ToString(inv), res.MeanAbsoluteRelativeError.ToString("P1", inv), res.MaxAbsoluteRelativeError.ToString("P1", inv));
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
        var topology = new Option<string?>("--topology") { Description = "topology for --cross-validate (default: the profile's); with --trace, the traced run's" };
        var maxMape = new Option<double?>("--max-mape") { Description = "exit 1 when the iteration MAPE (percent) is above this" };
        var plot = new Option<string?>("--plot") { Description = "draw predicted vs measured (.png or .svg)" };
        var phases = new Option<bool>("--phases") { Description = "print per-phase measured and predicted seconds" };
        var crossCard = new Option<bool>("--cross-card") { Description = "judge runs made on another card than the profile's (refused without it)" };
        var json = new Option<bool>("--json") { Description = "print the report as JSON" };
        var traces = TraceInputs.TraceOption("PyTorch profiler traces of one run, one per rank, whose iterations carry Sim's phase ranges (record_function): judged per phase and per rank; needs --topology, --workload and --plan");
        var workload = new Option<string?>("--workload") { Description = "the workload the --trace run trained" };
        var plan = new Option<string?>("--plan") { Description = "the sharding plan the --trace run used" };
        var stack = TraceInputs.StackOption();
        var optimizer = TraceInputs.OptimizerOption();
        runs.Arity = ArgumentArity.ZeroOrMore;
        var cmd = new Command("validate", "Predict every measured plan and compare: per run, per phase, MAPE, max error, Kendall tau.")
        {
            runs, profileOpt, cross, topology, maxMape, plot, phases, crossCard, json, traces, workload, plan, stack, optimizer,
        };
        cmd.SetAction(r =>
        {
            var files = ReadMeasurements(r.GetValue(runs)!).ToList();
            var traceRuns = new List<MeasurementFile>();
            if (r.GetValue(traces) is { Length: > 0 } tracePaths)
            {
                string Need(Option<string?> o) => r.GetValue(o) ?? throw new SimInputException(o.Name, "", "is needed with --trace (the run's plan is not in its traces)");
                var set = TraceMeasurements.RankOrder(TraceInputs.Read(tracePaths));
                traceRuns.Add(TraceMeasurements.Run(set, Need(topology), Need(workload), Need(plan), TraceInputs.StackOf(r.GetValue(stack)), r.GetValue(optimizer)!,
                    "sim validate --trace " + string.Join(" ", set.Select(t => t.File))));
                files.AddRange(traceRuns);
            }
            if (r.GetValue(runs)!.Length == 0 && traceRuns.Count == 0) throw new SimInputException("validate", "", "give measurement files (RUNS) or profiler traces (--trace FILE...)");
            var profile = r.GetValue(profileOpt) is { } pp ? CalibrationProfileJson.Read(pp) : null;
            if (profile is not null && !r.GetValue(crossCard))
            {
                // Runs (and micro benchmarks) of another card are left out, and the output says so.
                var card = profile.Domain?.Card ?? profile.Card;
                var foreign = files.Where(f => !Extrapolations.SameCard(f.Measurement.Provenance.GpuModel, card)).ToList();
                if (foreign.Count > 0)
                {
                    // A note, not the report: with --json it goes to stderr so that stdout stays one JSON document.
                    (r.GetValue(json) ? Console.Error : stdout).WriteLine($"left out {foreign.Count} measurement(s) made on another card than the profile's {card} " +
                                     $"({string.Join(", ", foreign.Select(f => f.Measurement.Provenance.GpuModel).Distinct())}); --cross-card judges them too");
                    files = files.Except(foreign).ToList();
                }
            }
            var judged = Validator.Runs(files);
            if (judged.Count == 0)
                throw new SimInputException(string.Join(", ", r.GetValue(runs)!), "", profile is not null && !r.GetValue(crossCard)
                    ? "no successful end-to-end run of the profile's card to validate (--cross-card judges other cards' runs)"
                    : "no successful end-to-end run to validate (only micro benchmarks, failed runs or no measurement files)");
            var report = Validator.Compare(run => Validator.ForRun(profile, run), judged, profile is null ? "built-in defaults" : "profile");
            var reports = new List<ValidationReport> { report };
            if (r.GetValue(cross))
            {
                var topoPath = r.GetValue(topology) ?? profile?.Topology
                    ?? throw new SimInputException("--topology", "", "cross-validation needs the measured machine's topology (--topology or a --profile)");
                var cluster = TopologyLoader.Load(topoPath);
                reports.Add(Validator.LeaveOnePlanOut(cluster, topoPath, files));
                reports.Add(Validator.Extrapolate(cluster, topoPath, files, 2, 4));
            }
            if (r.GetValue(json)) stdout.WriteLine(ValidationJson(reports));
            else
            {
                foreach (var rep in reports) Render(rep, stdout, r.GetValue(phases));
                foreach (var run in traceRuns.Where(judged.Contains)) RenderRanks(run, Validator.ForRun(profile, run), stdout);
            }
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

    /// <summary>The reports as one JSON object: per report the runs, the iteration and per-phase errors, Kendall tau.</summary>
    private static string ValidationJson(IReadOnlyList<ValidationReport> reports)
    {
        var arr = new System.Text.Json.Nodes.JsonArray();
        foreach (var rep in reports)
        {
            var runs = new System.Text.Json.Nodes.JsonArray();
            foreach (var x in rep.Runs)
            {
                var measured = new System.Text.Json.Nodes.JsonObject();
                var predicted = new System.Text.Json.Nodes.JsonObject();
                for (var i = 0; i < Iterations.Phases.All.Count; i++) { measured[Iterations.Phases.All[i]] = x.MeasuredPhases[i]; predicted[Iterations.Phases.All[i]] = x.PredictedPhases[i]; }
                runs.Add(new System.Text.Json.Nodes.JsonObject
                {
                    ["file"] = x.File, ["workload"] = x.Workload, ["plan"] = x.Plan, ["stack"] = x.Stack, ["optimizer"] = x.Optimizer, ["card"] = x.Card,
                    ["gpus"] = x.Gpus, ["measured_seconds"] = x.MeasuredSeconds, ["analytical_seconds"] = x.AnalyticalSeconds, ["event_seconds"] = x.EventSeconds,
                    ["analytical_error"] = x.AnalyticalError, ["event_error"] = x.EventError, ["measured_phases"] = measured, ["predicted_phases"] = predicted,
                });
            }
            var phases = new System.Text.Json.Nodes.JsonObject();
            foreach (var p in rep.PhaseErrors)
                phases[p.Phase] = new System.Text.Json.Nodes.JsonObject { ["judged"] = p.Judged, ["within_10_percent"] = p.Within10, ["mape"] = p.Mape, ["worst"] = p.Worst };
            var (agree, groups) = rep.BestPlanAgreement;
            arr.Add(new System.Text.Json.Nodes.JsonObject
            {
                ["label"] = rep.Label, ["runs"] = runs, ["iteration_mape_analytical"] = rep.AnalyticalMape, ["iteration_mape_event"] = rep.EventMape,
                ["max_abs_error"] = rep.MaxAbsError, ["kendall_tau"] = double.IsNaN(rep.KendallTau) ? null : rep.KendallTau,
                ["best_plan_agreement"] = agree, ["groups"] = groups, ["phases"] = phases,
            });
        }
        return new System.Text.Json.Nodes.JsonObject { ["reports"] = arr }.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>A traced run per rank: each phase measured (median over the traced iterations) beside its prediction.</summary>
    private static void RenderRanks(MeasurementFile run, Sim.Predictions.Predictor predictor, TextWriter stdout)
    {
        var s = ScenarioFromMeasurement.Load(run.Measurement, run.File);
        var predicted = Calibrator.RankPhases(run, predictor.CostFor(s.Cluster));
        var measured = run.Measurement.EndToEnd!.RankPhaseMedians;
        stdout.WriteLine();
        stdout.WriteLine($"== per rank ({run.Measurement.EndToEnd.MeasuredIterations} traced iteration(s)): measured / predicted");
        var t = new Table().AddColumn("rank");
        foreach (var ph in Iterations.Phases.All) t.AddColumn(new TableColumn(ph).RightAligned());
        for (var rank = 0; rank < measured.Count && rank < predicted.Length; rank++)
            t.AddRow([rank.ToString(CultureInfo.InvariantCulture), .. Iterations.Phases.All.Select((_, p) => $"{Units.Seconds(measured[rank][p])} / {Units.Seconds(predicted[rank][p])}")]);
        Terminal.For(stdout).Write(t);
    }

    private static void Render(ValidationReport rep, TextWriter stdout, bool phases)
    {
        var inv = CultureInfo.InvariantCulture;
        var console = Terminal.For(stdout);
        stdout.WriteLine();
        if (rep.Runs.Count == 0)
        {
            // Nothing measured to judge: say so rather than print a MAPE of nothing.
            stdout.WriteLine($"== {rep.Label}: no runs to judge (none measured)");
            return;
        }
        stdout.WriteLine($"== {rep.Label}: {rep.Runs.Count} run(s)");
        var t = new Table().AddColumns("plan", "stack", "optimizer", "GPUs", "measured", "analytical", "error", "event", "error");
        foreach (var c in t.Columns.Skip(3)) c.RightAligned();
        foreach (var x in rep.Runs)
            t.AddRow(Markup.Escape(x.Plan), Markup.Escape(x.Stack), Markup.Escape(x.Optimizer), x.Gpus.ToString(inv), Units.Seconds(x.MeasuredSeconds), Units.Seconds(x.AnalyticalSeconds),
                x.AnalyticalError.ToString("+0.0%;-0.0%", inv), Units.Seconds(x.EventSeconds), x.EventError.ToString("+0.0%;-0.0%", inv));
        console.Write(t);
        if (phases)
        {
            var pt = new Table().AddColumn("run");
            foreach (var ph in Iterations.Phases.All) pt.AddColumn(new TableColumn(ph).RightAligned());
            foreach (var x in rep.Runs)
            {
                pt.AddRow([Markup.Escape($"{x.Plan} {x.Stack} {x.Optimizer}") + " measured", .. x.MeasuredPhases.Select(Units.Seconds)]);
                pt.AddRow(["  predicted", .. x.PredictedPhases.Select(Units.Seconds)]);
            }
            console.Write(pt);
        }
        var pe = rep.PhaseErrors.Where(p => p.Judged > 0).ToList();
        stdout.WriteLine($"phases (where >= {ValidationReport.JudgedPhaseShare:P0} of the iteration): " +
            string.Join("; ", pe.Select(p => $"{p.Phase} {p.Within10}/{p.Judged} within 10% (mean {p.Mape.ToString("P1", inv)}, worst {p.Worst.ToString("P1", inv)})")));
        var (agree, groups) = rep.BestPlanAgreement;
        stdout.WriteLine($"iteration MAPE: analytical {rep.AnalyticalMape:P2}, event {rep.EventMape:P2}; max |error| {rep.MaxAbsError:P2}; " +
                         $"Kendall tau {(double.IsNaN(rep.KendallTau) ? "n/a" : rep.KendallTau.ToString("0.000", inv))}; best plan predicted in {agree} of {groups} group(s)");
    }
}
