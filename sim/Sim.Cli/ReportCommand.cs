using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using ScottPlot;
using Sim.Config;
using Sim.Sweep;
using Sim.Predictions;
using Sim.Iterations;

namespace Sim.Cli;

/// <summary>
/// `sim report RESULTS.duckdb --out report.html`: one self-contained HTML page (inline CSS and SVG, no scripts, no
/// external resources) with the sweep's summary, scaling curves, per-phase breakdown, heatmap and tables;
/// `--plots DIR` also writes each chart as PNG and SVG.
/// </summary>
internal static class ReportCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    public const int MaxTableRows = 500;

    public static Command Create(TextWriter stdout)
    {
        var db = new Argument<string>("results") { Description = "results database written by `sim sweep`" };
        var output = new Option<string>("--out") { Description = "HTML file to write", DefaultValueFactory = _ => "report.html" };
        var plots = new Option<string?>("--plots") { Description = "also write every chart here as PNG and SVG" };
        var heatmap = new Option<string?>("--heatmap") { Description = "the heatmap's two knobs, X,Y (e.g. gpus,nic_gbps); default: GPUs and the next varied knob" };
        var title = new Option<string?>("--title") { Description = "page title (default: the sweep names)" };
        var cmd = new Command("report", "Write a self-contained HTML report (tables and charts) of a sweep's results.") { db, output, plots, heatmap, title };
        cmd.SetAction(r =>
        {
            List<SweepRow> rows;
            IReadOnlyDictionary<string, IReadOnlyList<string>> axes;
            IReadOnlyList<string> sweeps;
            string shown;
            using (var store = ResultStore.Open(r.GetValue(db)!, readOnly: true))
            {
                rows = store.ReadRows();
                axes = store.ReadAxes();
                sweeps = store.SweepNames();
                shown = store.File;
            }
            if (rows.Count == 0) throw new SimInputException(shown, "", "the results database has no rows; run `sim sweep` first");
            var analysis = new SweepAnalysis(rows, axes);
            (Dimension, Dimension)? heat = null;
            if (r.GetValue(heatmap) is { } hm) heat = ParseHeatmap(hm, analysis);
            var report = Build(analysis, shown, sweeps, r.GetValue(title), heat);
            var outPath = r.GetValue(output)!;
            AtomicFile.WriteAllText(outPath, report.Html);
            stdout.WriteLine($"report: {outPath} ({rows.Count.ToString("N0", Inv)} configurations, {report.Charts.Count} charts)");
            if (r.GetValue(plots) is { } dir)
            {
                Directory.CreateDirectory(dir);
                foreach (var (name, plot, w, h) in report.Charts)
                {
                    SweepPlots.Save(plot, Path.Combine(dir, name + ".png"), w, h);
                    SweepPlots.Save(plot, Path.Combine(dir, name + ".svg"), w, h);
                }
                stdout.WriteLine($"charts: {dir}/ ({string.Join(", ", report.Charts.Select(c => c.Name + ".png/.svg"))})");
            }
            return 0;
        });
        return cmd;
    }

    private static (Dimension, Dimension) ParseHeatmap(string text, SweepAnalysis a)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 2) throw new SimInputException("--heatmap", "", $"expected two knobs X,Y, found '{text}'");
        Dimension Find(string n) =>
            a.Varied.FirstOrDefault(d => d.Name == n)
            ?? throw new SimInputException("--heatmap", "", $"'{n}' does not vary in these results; varied: {string.Join(", ", a.Varied.Select(d => d.Name))}");
        var x = Find(parts[0]);
        var y = Find(parts[1]);
        if (x == y) throw new SimInputException("--heatmap", "", "X and Y must be different knobs");
        return (x, y);
    }

    public sealed record Report(string Html, IReadOnlyList<(string Name, Plot Plot, int Width, int Height)> Charts);

    public static Report Build(SweepAnalysis a, string dbName, IReadOnlyList<string> sweeps, string? title, (Dimension X, Dimension Y)? heatAxes = null)
    {
        var charts = new List<(string, Plot, int, int)>();
        var html = new StringBuilder();
        var name = title ?? (sweeps.Count > 0 ? string.Join(", ", sweeps) : Path.GetFileNameWithoutExtension(dbName));
        var topo = a.Rows.Select(r => r.Topology).Distinct().Order(StringComparer.Ordinal).ToList();
        var work = a.Rows.Select(r => r.Workload).Distinct().Order(StringComparer.Ordinal).ToList();
        var infeasible = a.Rows.Count(r => r.Status == RowStatus.Infeasible);
        var errors = a.Rows.Count(r => r.Status == RowStatus.Error);

        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append("<title>").Append(E($"Sim sweep report: {name}")).Append("</title>\n<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n");
        html.Append("<h1>Sweep report: ").Append(E(name)).Append("</h1>\n");
        html.Append("<p class=\"lead\">").Append(E($"{a.Rows.Count:N0} configurations of {string.Join(", ", work)} on the {string.Join(", ", topo)} family: "))
            .Append($"<b>{a.Ok.Count:N0} predicted</b>, {infeasible:N0} infeasible, {errors:N0} errors. ")
            .Append(E($"Results from {dbName}; predictions of Sim's models ({string.Join(", ", a.Rows.Select(r => r.Point.Mode.Word()).Distinct().Order(StringComparer.Ordinal))}), uncalibrated unless a calibration profile was used."))
            .Append("</p>\n");

        // What varies.
        html.Append("<h2>What the sweep varies</h2>\n<table class=\"small\"><tr><th>knob</th><th>values</th></tr>\n");
        foreach (var d in a.Varied)
        {
            var values = a.Rows.Select(d.Text).Distinct().Order(d.Comparer(a.Rows));
            html.Append("<tr><td>").Append(E(d.Label)).Append("</td><td>").Append(E(string.Join(", ", values))).Append("</td></tr>\n");
        }
        var fixedDims = SweepAnalysis.AllDimensions.Where(d => !a.Varied.Contains(d) && d.Name is not ("topology" or "workload")).ToList();
        if (a.Rows.Count > 0)
            html.Append("<tr><td>fixed</td><td>").Append(E(string.Join(", ", fixedDims.Select(d => $"{d.Label} {d.Text(a.Rows[0])}")))).Append("</td></tr>\n");
        html.Append("</table>\n");

        if (a.Ok.Count == 0)
        {
            html.Append("<p class=\"warn\">No configuration is feasible: there is nothing to plot. The reasons are listed below.</p>\n");
        }
        else
        {
            // Scaling.
            html.Append("<h2>Scaling</h2>\n");
            if (a.VariesGpus)
            {
                var series = a.Scaling(out var total);
                var note = total > series.Count ? $" Showing the {series.Count} fastest of {total} curves; the tables below have all." : "";
                html.Append("<p>").Append(E("Throughput (samples per second, both axes logarithmic) and scaling efficiency (per-GPU throughput relative to the smallest cluster of the same curve; 100 % is linear scaling) against the number of GPUs. Each curve holds the other knobs fixed." + note)).Append("</p>\n");
                var tp = SweepPlots.Throughput(series, "Throughput vs GPUs");
                var ef = SweepPlots.Efficiency(series, "Scaling efficiency vs GPUs");
                charts.Add(("scaling-throughput", tp, SweepPlots.Width, SweepPlots.Height));
                charts.Add(("scaling-efficiency", ef, SweepPlots.Width, SweepPlots.Height));
                html.Append(Figure(tp, "Throughput against GPUs")).Append(Figure(ef, "Scaling efficiency against GPUs"));
                html.Append(ScalingTable(series));
            }
            else html.Append("<p>The cluster size does not vary in these results, so there is no scaling curve.</p>\n");

            // Breakdown.
            var slice = a.BreakdownRows(out var along, out var fixedText);
            var labels = slice.Select(r => a.RowLabel(r, along)).ToList();
            var what = along is null ? "every feasible configuration" : $"{along.Label} varies" + (fixedText.Length > 0 ? $"; {fixedText}" : "");
            html.Append("<h2>Where the time goes</h2>\n<p>").Append(E($"Per-phase seconds on the iteration's critical path ({what}). Communication phases are marked (comm); overlap hides communication behind compute, so only exposed time appears.")).Append("</p>\n");
            var abs = SweepPlots.Breakdown(slice, labels, "Iteration breakdown (milliseconds)", share: false);
            var pct = SweepPlots.Breakdown(slice, labels, "Iteration breakdown (share)", share: true);
            var bw = Math.Max(SweepPlots.Width, 200 + slice.Count * 40);
            charts.Add(("breakdown", abs, bw, SweepPlots.Height + 60));
            charts.Add(("breakdown-share", pct, bw, SweepPlots.Height + 60));
            html.Append(Figure(abs, "Per-phase breakdown in milliseconds", bw, SweepPlots.Height + 60))
                .Append(Figure(pct, "Per-phase breakdown as a share of the iteration", bw, SweepPlots.Height + 60));
            html.Append(BreakdownTable(slice, labels));

            // Non-ideal conditions (issue 21).
            var background = a.Background();
            if (background.Count > 0)
            {
                html.Append("<h2>Shared fabric: background load</h2>\n<p>").Append(E("Samples per second and slowdown against the fraction of every scale-out link (PCIe to the NIC, NIC, leaf, spine) taken by other jobs' traffic, simulated by the event engine; each curve holds the other knobs fixed. The dashed curve is 1/(1 - load), the slowdown of a step spent entirely on the scale-out fabric: a curve below it is the share of the step that other work hides or that runs on NVLink and compute.")).Append("</p>\n");
                var tp = SweepPlots.Background(background, "Throughput vs background load", slowdown: false);
                var sd = SweepPlots.Background(background, "Slowdown vs background load", slowdown: true);
                charts.Add(("background-throughput", tp, SweepPlots.Width, SweepPlots.Height));
                charts.Add(("background-slowdown", sd, SweepPlots.Width, SweepPlots.Height));
                html.Append(Figure(tp, "Throughput against background load")).Append(Figure(sd, "Slowdown against background load"));
            }
            var jittered = a.Distributions();
            if (jittered.Count > 0)
            {
                var shown = jittered.Take(40).ToList();
                var dl = shown.Select(r => a.RowLabel(r)).ToList();
                html.Append("<h2>Stragglers and jitter: the distribution</h2>\n<p>").Append(E($"The distribution of the iteration time over the iterations simulated for each configuration with compute jitter: how far p90 and p99 lie above p50, and the percentiles with the GPU that paced most iterations in the table (nearest-rank percentiles; seeded, so the same sweep gives the same numbers){(jittered.Count > shown.Count ? $"; the first {shown.Count} of {jittered.Count}" : "")}.")).Append("</p>\n");
                var dw = Math.Max(SweepPlots.Width, 200 + shown.Count * 40);
                var dp = SweepPlots.Distribution(shown, dl, "Iteration-time tail under jitter: p90 and p99 above p50");
                charts.Add(("distribution", dp, dw, SweepPlots.Height + 60));
                html.Append(Figure(dp, "p90 and p99 of the iteration time above its p50 (p50 in the table)", dw, SweepPlots.Height + 60));
                html.Append("<table class=\"small\"><tr><th>configuration</th><th>p50</th><th>p90</th><th>p99</th><th>pacing GPU</th></tr>\n");
                for (var i = 0; i < shown.Count; i++)
                    html.Append("<tr><td>").Append(E(dl[i])).Append("</td><td class=\"num\">").Append(E(Units.Seconds(shown[i].IterationSecondsP50!.Value)))
                        .Append("</td><td class=\"num\">").Append(E(Units.Seconds(shown[i].IterationSecondsP90!.Value)))
                        .Append("</td><td class=\"num\">").Append(E(Units.Seconds(shown[i].IterationSecondsP99!.Value)))
                        .Append("</td><td class=\"num\">").Append(shown[i].PacingRank?.ToString(Inv) ?? "").Append("</td></tr>\n");
                html.Append("</table>\n");
            }

            // Heatmap.
            var hx = heatAxes ?? a.DefaultHeatmapAxes();
            if (hx is { } axesPair)
            {
                var h = a.Heatmap(axesPair.X, axesPair.Y);
                var hp = SweepPlots.Heatmap(h, $"Samples/s by {axesPair.X.Label} and {axesPair.Y.Label}");
                var hw = Math.Max(700, 200 + h.XValues.Count * 80);
                var hh = Math.Max(360, 160 + h.YValues.Count * 50);
                charts.Add(("heatmap", hp, hw, hh));
                html.Append("<h2>Two knobs at once</h2>\n<p>").Append(E($"Samples per second for each {axesPair.X.Label} and {axesPair.Y.Label}" +
                    (h.Fixed.Length > 0 ? $" ({h.Fixed})" : "") + "; grey cells are infeasible or missing.")).Append("</p>\n");
                html.Append(Figure(hp, "Heatmap of samples per second", hw, hh));
            }
        }

        // All results.
        html.Append("<h2>All configurations</h2>\n");
        html.Append(ResultsTable(a));
        var problems = a.Rows.Where(r => !r.IsOk).GroupBy(r => r.Status + ": " + Generalise(r.Error ?? "")).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
        if (problems.Count > 0)
        {
            html.Append("<h2>Why some configurations do not run</h2>\n<table class=\"small\"><tr><th>configurations</th><th>reason (first example)</th></tr>\n");
            foreach (var g in problems.Take(30))
                html.Append("<tr><td class=\"num\">").Append(g.Count()).Append("</td><td>").Append(E(g.First().Error ?? "")).Append("</td></tr>\n");
            html.Append("</table>\n");
        }
        html.Append("<footer>").Append(E($"Written by `sim report` (Sim {ResultStore.SimVersion}). Self-contained: no scripts, no external resources.")).Append("</footer>\n");
        html.Append("</body>\n</html>\n");
        return new Report(html.ToString(), charts);
    }

    /// <summary>Groups error messages that differ only in numbers (GPU ids, byte counts).</summary>
    private static string Generalise(string s)
    {
        var sb = new StringBuilder(s.Length);
        var lastDigit = false;
        foreach (var ch in s)
        {
            if (char.IsDigit(ch)) { if (!lastDigit) sb.Append('#'); lastDigit = true; }
            else if (lastDigit && (ch == '.' || ch == ',')) { }
            else { sb.Append(ch); lastDigit = false; }
        }
        return sb.ToString();
    }

    private static string Figure(Plot plot, string caption, int width = SweepPlots.Width, int height = SweepPlots.Height)
    {
        var svg = plot.GetSvgXml(width, height);
        // Inline SVG needs no namespace declaration in HTML; dropping it keeps the page free of any URL.
        svg = svg.Replace(" xmlns=\"http://www.w3.org/2000/svg\"", "", StringComparison.Ordinal)
                 .Replace(" xmlns:xlink=\"http://www.w3.org/1999/xlink\"", "", StringComparison.Ordinal);
        var start = svg.IndexOf("<svg", StringComparison.Ordinal);
        if (start > 0) svg = svg[start..];
        // A viewBox lets the page scale the chart to narrow windows without distorting it.
        var tagEnd = svg.IndexOf('>', StringComparison.Ordinal);
        if (tagEnd > 0 && !svg[..tagEnd].Contains("viewBox", StringComparison.Ordinal))
            svg = svg[..4] + $" viewBox=\"0 0 {width} {height}\"" + svg[4..];
        return $"<figure>\n{svg}\n<figcaption>{E(caption)}</figcaption>\n</figure>\n";
    }

    /// <summary>GPUs down, one column per curve: samples/s and efficiency.</summary>
    private static string ScalingTable(IReadOnlyList<ScalingSeries> series)
    {
        var sb = new StringBuilder("<div class=\"wide\"><table class=\"small\"><tr><th>GPUs</th>");
        foreach (var s in series) sb.Append("<th>").Append(E(s.Label)).Append("</th>");
        sb.Append("</tr>\n");
        foreach (var gpus in series.SelectMany(s => s.Points.Select(p => p.Gpus)).Distinct().Order())
        {
            sb.Append("<tr><td class=\"num\">").Append(gpus).Append("</td>");
            foreach (var s in series)
            {
                var p = s.Points.FirstOrDefault(x => x.Gpus == gpus);
                sb.Append("<td class=\"num\">");
                if (p is not null)
                    sb.Append(p.SamplesPerSecond.ToString("N0", Inv)).Append(" <span class=\"eff\">(")
                      .Append(p.Efficiency.ToString(p.Efficiency < 0.1 ? "P1" : "P0", Inv)).Append(")</span>");
                else sb.Append('-');
                sb.Append("</td>");
            }
            sb.Append("</tr>\n");
        }
        return sb.Append("</table></div>\n<p class=\"note\">Samples per second (scaling efficiency in brackets).</p>\n").ToString();
    }

    private static string BreakdownTable(IReadOnlyList<SweepRow> rows, IReadOnlyList<string> labels)
    {
        var used = Enumerable.Range(0, Phases.All.Count).Where(i => rows.Any(r => r.PhaseSeconds![i] > 0)).ToList();
        var sb = new StringBuilder("<div class=\"wide\"><table class=\"small\"><tr><th>configuration</th>");
        foreach (var i in used) sb.Append("<th>").Append(E(Phases.All[i])).Append("</th>");
        sb.Append("<th>iteration</th></tr>\n");
        for (var k = 0; k < rows.Count; k++)
        {
            sb.Append("<tr><td>").Append(E(labels[k])).Append("</td>");
            foreach (var i in used) sb.Append("<td class=\"num\">").Append(E(Units.Seconds(rows[k].PhaseSeconds![i]))).Append("</td>");
            sb.Append("<td class=\"num\">").Append(E(Units.Seconds(rows[k].IterationSeconds!.Value))).Append("</td></tr>\n");
        }
        return sb.Append("</table></div>\n").ToString();
    }

    private static string ResultsTable(SweepAnalysis a)
    {
        var rows = a.SortByVaried(a.Rows);
        var dims = a.Varied.Count > 0 ? a.Varied : [SweepAnalysis.Dim("gpus")];
        var sb = new StringBuilder();
        if (rows.Count > MaxTableRows)
            sb.Append("<p>").Append(E($"The {MaxTableRows} fastest of {rows.Count:N0} configurations; export the database with `sim sweep ... --csv` for all.")).Append("</p>\n");
        var shown = rows.Count > MaxTableRows
            ? a.SortByVaried(rows.OrderByDescending(r => r.SamplesPerSecond ?? -1).ThenBy(r => r.Key, StringComparer.Ordinal).Take(MaxTableRows))
            : rows;
        sb.Append("<div class=\"wide\"><table class=\"small\"><tr>");
        foreach (var d in dims) sb.Append("<th>").Append(E(d.Label)).Append("</th>");
        sb.Append("<th>samples/s</th><th>iteration</th><th>exposed comm.</th><th>memory max / GPU</th><th>bottleneck or reason</th></tr>\n");
        foreach (var r in shown)
        {
            sb.Append(r.IsOk ? "<tr>" : "<tr class=\"bad\">");
            foreach (var d in dims) sb.Append("<td>").Append(E(d.Text(r))).Append("</td>");
            if (r.IsOk)
                sb.Append("<td class=\"num\">").Append(r.SamplesPerSecond!.Value.ToString("N0", Inv)).Append("</td><td class=\"num\">")
                  .Append(E(Units.Seconds(r.IterationSeconds!.Value))).Append("</td><td class=\"num\">")
                  .Append(E(Units.Seconds(r.ExposedCommunicationSeconds ?? 0))).Append("</td>");
            else sb.Append("<td>-</td><td>-</td><td>-</td>");
            sb.Append("<td class=\"num\">").Append(r.MemoryBytesMax is { } m ? E($"{Units.Bytes(m)} of {Units.Bytes(r.MemoryCapacityBytes)}") : "-").Append("</td>");
            sb.Append("<td>").Append(E(r.IsOk ? r.BottleneckPhase ?? "" : $"{r.Status}: {r.Error}")).Append("</td></tr>\n");
        }
        return sb.Append("</table></div>\n").ToString();
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);

    private const string Css = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 2rem auto; max-width: 1200px; padding: 0 1rem; color: #1d1d1f; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
p.lead { color: #444; }
p.warn { color: #a33; font-weight: bold; }
figure { margin: 1rem 0; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; }
figure svg { image-rendering: pixelated; }  /* heatmap cells stay cells (the property is inherited by <use>d images) */
figcaption { color: #666; font-size: .85rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
table.small { font-size: .82rem; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; vertical-align: top; }
th { background: #f4f4f6; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.bad td { color: #8a3b3b; background: #fdf6f6; }
div.wide { overflow-x: auto; }
span.eff { color: #777; }
p.note { color: #666; font-size: .8rem; margin-top: -.4rem; }
footer { margin-top: 3rem; color: #888; font-size: .8rem; }

""";
}
