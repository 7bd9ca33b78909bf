using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Sim.Studies;
using Spectre.Console;

namespace Sim.Cli;

/// <summary>
/// `sim reproduce STUDY [--json] [--plot DIR]`: predicts every checkable result of a published study
/// (validation/published/STUDY/claims.yaml) from specs alone and prints paper vs Sim with the relative error.
/// </summary>
internal static class ReproduceCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var study = new Argument<string>("study") { Description = $"published study: {string.Join(", ", Reproduction.Studies)}" };
        var json = new Option<bool>("--json") { Description = "print the comparison as one JSON object" };
        var plot = new Option<string?>("--plot") { Description = "write the scaling, breakdown and paper-vs-Sim plots (PNG) into this folder" };
        var root = new Option<string?>("--root") { Description = "repository root holding validation/published/STUDY/claims.yaml (default: the current folder or one above it)" };
        var cmd = new Command("reproduce", "Predict a published study's results from specs alone and compare with the paper (relative error per result).")
        {
            study, json, plot, root,
        };
        cmd.SetAction(r =>
        {
            var name = r.GetValue(study)!;
            Reproduction.CheckStudy(name);
            var dir = r.GetValue(root) is { } given ? Reproduction.FindRoot(name, given) : Reproduction.FindRoot(name, Directory.GetCurrentDirectory(), AppContext.BaseDirectory);
            var progress = new Progress(stderr);
            var result = Reproduction.Run(dir, name, progress);
            if (r.GetValue(json)) stdout.WriteLine(ToJson(result));
            else Render(result, stdout);
            if (r.GetValue(plot) is { } folder)
            {
                Directory.CreateDirectory(folder);
                foreach (var path in Plots(result, folder)) (r.GetValue(json) ? stderr : stdout).WriteLine($"plot written to {path}");
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>Progress on stderr, synchronously (System.Progress would post to the thread pool and interleave).</summary>
    private sealed class Progress(TextWriter stderr) : IProgress<string>
    {
        public void Report(string value) => stderr.WriteLine($"  {value}");
    }

    private static string Pct(double e) => (e >= 0 ? "+" : "") + (e * 100).ToString("0.0", Inv) + " %";

    private static void Render(ReproductionResult r, TextWriter stdout)
    {
        var console = Terminal.For(stdout);
        stdout.WriteLine($"{r.Study}: {r.Paper}");
        stdout.WriteLine("Sim predicts from the topology and workload files alone (analytical mode, uncalibrated, no factor fitted to the paper).");
        var table = new Table().AddColumns("id", "class", "claim", "paper", "Sim", "rel. error");
        foreach (var row in r.Rows)
        {
            var err = row.RelativeError is { } e ? Pct(e) + (row.ByConstruction ? " (by construction)" : "") : $"n/a: {row.NotNumeric}";
            table.AddRow(Markup.Escape(row.Id), Markup.Escape(row.Class), Markup.Escape(row.Claim), Markup.Escape(row.PaperText), Markup.Escape(row.SimText), Markup.Escape(err));
        }
        console.Write(table);
        if (r.Scaling.Count > 0)
        {
            stdout.WriteLine($"Sim's scaling (paper values not available): {r.ScalingTitle}");
            foreach (var p in r.Scaling)
                stdout.WriteLine($"  {p.Gpus,5} GPUs  {p.SamplesPerSecond.ToString("N0", Inv),13} samples/s  efficiency {(p.Efficiency * 100).ToString("0.0", Inv)} % of linear; {p.Tiers}");
        }
        stdout.WriteLine("cannot check:");
        foreach (var c in r.CannotCheck) stdout.WriteLine($"  {c.Id} [{c.Class}] {c.Text}: {c.Reason}");
        var yesNo = r.Rows.Where(x => x.Holds is not null).ToList();
        if (yesNo.Count > 0) stdout.WriteLine($"yes/no claims: {yesNo.Count(x => x.Holds == true)} of {yesNo.Count} hold");
        if (r.All is { } all)
            stdout.WriteLine($"relative error over {all.Rows} numeric rows: median {(all.Median * 100).ToString("0.0", Inv)} %, worst {(all.Worst * 100).ToString("0.0", Inv)} % ({all.WorstId})" +
                (r.Predicted is { } p2 ? $"; over the {p2.Rows} predicted rows (sizes excluded, they match by construction): median {(p2.Median * 100).ToString("0.0", Inv)} %, worst {(p2.Worst * 100).ToString("0.0", Inv)} % ({p2.WorstId})" : ""));
    }

    private static JsonNode? Num(double? v) => v is { } x && double.IsFinite(x) ? JsonValue.Create(x) : null;

    private static string ToJson(ReproductionResult r)
    {
        JsonObject? Summary(ErrorSummary? s) => s is null ? null : new JsonObject
        {
            ["rows"] = s.Rows, ["median_abs_relative_error"] = s.Median, ["worst_abs_relative_error"] = s.Worst, ["worst_id"] = s.WorstId,
        };
        var o = new JsonObject
        {
            ["study"] = r.Study,
            ["paper"] = r.Paper,
            ["rows"] = new JsonArray(r.Rows.Select(x => (JsonNode)new JsonObject
            {
                ["id"] = x.Id, ["claim"] = x.Claim, ["class"] = x.Class, ["source"] = x.Source,
                ["paper"] = x.PaperText, ["paper_value"] = Num(x.PaperValue), ["unit"] = x.Unit,
                ["sim"] = x.SimText, ["sim_value"] = Num(x.SimValue), ["relative_error"] = Num(x.RelativeError),
                ["not_numeric"] = x.NotNumeric, ["by_construction"] = x.ByConstruction, ["holds"] = x.Holds, ["how"] = x.How,
            }).ToArray()),
            ["scaling"] = new JsonArray(r.Scaling.Select(p => (JsonNode)new JsonObject
            {
                ["nodes"] = p.Nodes, ["gpus"] = p.Gpus, ["global_batch"] = p.GlobalBatch, ["samples_per_second"] = p.SamplesPerSecond, ["efficiency"] = p.Efficiency, ["tiers"] = p.Tiers,
            }).ToArray()),
            ["breakdowns"] = new JsonArray(r.Breakdowns.Select(b => (JsonNode)new JsonObject
            {
                ["workload"] = b.Workload, ["topology"] = b.Topology, ["iteration_seconds"] = b.IterationSeconds,
                ["phases"] = new JsonObject(b.Phases.Select(p => KeyValuePair.Create(p.Name, (JsonNode?)JsonValue.Create(p.Seconds)))),
            }).ToArray()),
            ["cannot_check"] = new JsonArray(r.CannotCheck.Select(c => (JsonNode)new JsonObject
            {
                ["id"] = c.Id, ["claim"] = c.Text, ["class"] = c.Class, ["source"] = c.Source, ["reason"] = c.Reason,
            }).ToArray()),
            ["summary_all_numeric"] = Summary(r.All),
            ["summary_predicted"] = Summary(r.Predicted),
        };
        return o.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    /// <summary>Writes the plots and returns their paths.</summary>
    private static IEnumerable<string> Plots(ReproductionResult r, string folder)
    {
        var paths = new List<string>();

        // Paper vs Sim for every numeric row, as Sim / paper (1 = agreement).
        var numeric = r.Rows.Where(x => x.RelativeError is not null).ToList();
        if (numeric.Count > 0)
        {
            var plot = new ScottPlot.Plot();
            var ratios = numeric.Select(x => 1 + x.RelativeError!.Value).ToArray();
            var bars = plot.Add.Bars(ratios);
            bars.Color = ScottPlot.Colors.SteelBlue;
            var one = plot.Add.HorizontalLine(1);
            one.LinePattern = ScottPlot.LinePattern.Dashed;
            one.LegendText = "paper value (Sim / paper = 1)";
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, numeric.Count).Select(i => (double)i).ToArray(), numeric.Select(x => x.Id).ToArray());
            plot.YLabel("Sim / paper");
            plot.Title($"{r.Study}: Sim against the paper's numbers (b: ZionEX/Zion, c: precision, d: sizes by construction)");
            plot.ShowLegend(ScottPlot.Edge.Bottom);
            var path = Path.Combine(folder, $"{r.Study}-paper-vs-sim.png");
            PlotFiles.Save(plot, path, 1000, 600);
            paths.Add(path);
        }

        if (r.Scaling.Count > 0)
        {
            var plot = new ScottPlot.Plot();
            var xs = r.Scaling.Select(p => (double)p.Gpus).ToArray();
            var s = plot.Add.Scatter(xs, r.Scaling.Select(p => p.SamplesPerSecond / 1e6).ToArray());
            s.LegendText = "Sim (analytical)";
            var first = r.Scaling[0];
            var ideal = plot.Add.Scatter(xs, r.Scaling.Select(p => first.SamplesPerSecond / 1e6 * p.Gpus / first.Gpus).ToArray());
            ideal.LegendText = "linear from the smallest size";
            ideal.LinePattern = ScottPlot.LinePattern.Dashed;
            plot.XLabel("GPUs");
            plot.YLabel("million samples/s");
            plot.Title($"Scaling: {r.ScalingTitle} (the paper's values are not available)");
            plot.ShowLegend(ScottPlot.Edge.Bottom);
            var path = Path.Combine(folder, $"{r.Study}-scaling.png");
            PlotFiles.Save(plot, path, 1000, 600);
            paths.Add(path);
        }

        if (r.Breakdowns.Count > 0)
        {
            var plot = new ScottPlot.Plot();
            var palette = new ScottPlot.Palettes.Category10();
            var phases = r.Breakdowns[0].Phases.Select(p => p.Name).ToArray();
            var bars = new List<ScottPlot.Bar>();
            for (var i = 0; i < r.Breakdowns.Count; i++)
            {
                double at = 0;
                foreach (var (p, j) in r.Breakdowns[i].Phases.Select((p, j) => (p, j)))
                {
                    if (p.Seconds <= 0) continue;
                    bars.Add(new ScottPlot.Bar { Position = i, ValueBase = at, Value = at + p.Seconds * 1e3, FillColor = palette.GetColor(j), LineWidth = 0, Size = 0.6 });
                    at += p.Seconds * 1e3;
                }
            }
            plot.Add.Bars(bars);
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, r.Breakdowns.Count).Select(i => (double)i).ToArray(),
                r.Breakdowns.Select(b => $"{b.Workload}\n{b.Topology}").ToArray());
            foreach (var (p, j) in phases.Select((p, j) => (p, j)))
                plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = p, FillColor = palette.GetColor(j) });
            plot.ShowLegend(ScottPlot.Edge.Right);
            plot.YLabel("milliseconds per iteration (critical path)");
            plot.Title("Sim's iteration breakdown (the paper's breakdowns are not available)");
            var path = Path.Combine(folder, $"{r.Study}-breakdown.png");
            PlotFiles.Save(plot, path, 1100, 650);
            paths.Add(path);
        }
        return paths;
    }
}
