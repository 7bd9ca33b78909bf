using Sim.Topology;
using Sim.Iterations;

namespace Sim.Cli;

/// <summary>
/// A Gantt chart of a simulated iteration: one row per rank and stream, one bar per task, coloured by phase.
/// Large clusters show the first ranks and every rank the critical path visits.
/// </summary>
internal static class TimelinePlot
{
    public const int MaxRanksShown = 16;

    public static void Save(string path, Cluster c, Timeline t, IReadOnlyList<PathSegment> criticalPath, string title)
    {
        var ranks = Enumerable.Range(0, Math.Min(c.WorldSize, 8))
            .Concat(criticalPath.Where(s => s.Rank >= 0).Select(s => s.Rank))
            .Distinct().Order().Take(MaxRanksShown).ToArray();
        var plot = new ScottPlot.Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var colours = Phases.All.Select((p, i) => (p, palette.GetColor(i))).ToDictionary(x => x.p, x => x.Item2);
        var rows = new List<string>();
        var bars = new List<ScottPlot.Bar>();
        foreach (var r in ranks)
        {
            foreach (var stream in Enum.GetValues<StreamKind>())
            {
                var y = rows.Count;
                var any = false;
                foreach (var task in t.Graph.Tasks.Where(k => k.Stream == stream && (k.Kind == TaskKind.Collective || k.Rank == r)))
                {
                    var start = t.Start[task.Id] * 1e3;
                    var end = t.FinishFor(task.Id, task.Kind == TaskKind.Compute ? -1 : r) * 1e3;
                    if (end <= start) continue;
                    any = true;
                    bars.Add(new ScottPlot.Bar { Position = y, ValueBase = start, Value = end, FillColor = colours[task.Phase], LineWidth = 0, Size = 0.8 });
                }
                if (any) rows.Add($"rank {r} {stream}");
                else bars.RemoveAll(b => b.Position == y);
            }
        }
        var series = plot.Add.Bars(bars);
        series.Horizontal = true;
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows.Count).Select(i => (double)i).ToArray(), rows.ToArray());
        plot.Axes.Left.TickLabelStyle.FontSize = 10;
        plot.XLabel("milliseconds");
        plot.Title(title);
        foreach (var (phase, colour) in colours)
            plot.Legend.ManualItems.Add(new ScottPlot.LegendItem { LabelText = phase, FillColor = colour });
        plot.ShowLegend(ScottPlot.Edge.Right);
        plot.Axes.InvertY();
        var height = Math.Max(300, 60 + rows.Count * 22);
        if (path.EndsWith(".svg", StringComparison.OrdinalIgnoreCase)) plot.SaveSvg(path, 1400, height);
        else plot.SavePng(path, 1400, height);
    }
}
