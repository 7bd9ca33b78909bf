using Sim.Collectives;
using Sim.Config;
using Sim.Nccl;

namespace Sim.Cli;

/// <summary>busbw against message size (log scale), one series per algorithm chosen, as nccl-tests results are usually drawn.</summary>
internal static class CollectivePlot
{
    public static void Save(string topology, IReadOnlyList<CollectiveEstimate> rows, string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (var group in rows.GroupBy(r => r.Algorithm))
        {
            var xs = group.Select(r => Math.Log2(r.Bytes)).ToArray();
            var ys = group.Select(r => r.BusBytesPerSecond / 1e9).ToArray();
            var s = plot.Add.Scatter(xs, ys);
            s.LegendText = group.Key.Word();
        }
        var ticks = rows.Select(r => r.Bytes).Where((_, i) => rows.Count <= 12 || i % 2 == 0).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            ticks.Select(Math.Log2).ToArray(), ticks.Select(ByteSizes.Format).ToArray());
        var first = rows[0];
        plot.Title($"{first.Op.Word()} on {topology}, {first.Ranks} ranks, {first.DType}");
        plot.XLabel("message size (nccl-tests bytes)");
        plot.YLabel("busbw (GB/s)");
        plot.ShowLegend(ScottPlot.Alignment.UpperLeft);
        PlotFiles.Save(plot, path, 1000, 600);
    }
}
