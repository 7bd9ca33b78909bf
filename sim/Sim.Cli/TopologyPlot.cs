using Sim.Topology;

namespace Sim.Cli;

/// <summary>Draws a <see cref="GraphLayout"/> with ScottPlot: tiers bottom to top, links as lines coloured by tier.</summary>
internal static class TopologyPlot
{
    private const int LabelLimit = 80;

    public static void Save(GraphLayout layout, string path)
    {
        var plot = new ScottPlot.Plot();
        var rows = layout.Boxes.Count == 0 ? 1 : (int)layout.Boxes.Max(b => b.Y) + 1;
        foreach (var e in layout.Edges)
        {
            var a = layout.Boxes[e.From];
            var b = layout.Boxes[e.To];
            var line = plot.Add.Line(a.X, a.Y, b.X, b.Y);
            line.LineColor = TierColor(e.Tier);
            // Width grows with the log of the link speed: 1 GB/s thin, 1 TB/s thick.
            line.LineWidth = (float)Math.Clamp(1 + Math.Log10(Math.Max(1, e.BytesPerSecond / 1e9)), 1, 5);
        }
        foreach (var kind in layout.Boxes.Select(b => b.Kind).Distinct())
        {
            var boxes = layout.Boxes.Where(b => b.Kind == kind).ToArray();
            var markers = plot.Add.Markers(boxes.Select(b => b.X).ToArray(), boxes.Select(b => b.Y).ToArray(),
                kind == VertexKind.Gpu ? ScottPlot.MarkerShape.FilledSquare : ScottPlot.MarkerShape.FilledCircle,
                layout.Boxes.Count > 200 ? 4 : 10, KindColor(kind));
            markers.LegendText = layout.Summarised && kind == VertexKind.Gpu ? "node (GPUs, NICs, host)" : kind.Word();
        }
        if (layout.Boxes.Count <= LabelLimit)
            foreach (var b in layout.Boxes)
            {
                var text = plot.Add.Text(b.Label, b.X, b.Y);
                text.LabelFontSize = layout.Boxes.Count > 40 ? 8 : 11;
                text.LabelRotation = layout.Boxes.Count(o => o.Y == b.Y) > 8 ? -45 : 0;
                text.OffsetY = -8;
            }
        foreach (var tier in layout.Edges.Select(e => e.Tier).Distinct())
        {
            var key = plot.Add.Line(-1, -1, -1, -1);
            key.LineColor = TierColor(tier);
            key.LegendText = tier;
        }
        plot.Title(layout.Title);
        plot.HideAxesAndGrid();
        plot.Axes.SetLimits(-0.05, 1.05, -0.6, rows - 0.4);
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        PlotFiles.Save(plot, path, 1400, 200 + 180 * rows);
    }

    private static ScottPlot.Color TierColor(string tier) => tier switch
    {
        TierNames.NvLink => ScottPlot.Colors.Green,
        TierNames.Pcie => ScottPlot.Colors.Gray,
        TierNames.Cpu => ScottPlot.Colors.Brown,
        TierNames.Nic => ScottPlot.Colors.Blue,
        TierNames.Leaf => ScottPlot.Colors.Orange,
        _ => ScottPlot.Colors.Red,
    };

    private static ScottPlot.Color KindColor(VertexKind kind) => kind switch
    {
        VertexKind.Gpu => ScottPlot.Colors.DarkGreen,
        VertexKind.NvSwitch => ScottPlot.Colors.LimeGreen,
        VertexKind.PcieSwitch => ScottPlot.Colors.DimGray,
        VertexKind.Cpu => ScottPlot.Colors.SaddleBrown,
        VertexKind.Nic => ScottPlot.Colors.RoyalBlue,
        VertexKind.Leaf or VertexKind.Switch => ScottPlot.Colors.DarkOrange,
        VertexKind.Spine => ScottPlot.Colors.Crimson,
        _ => ScottPlot.Colors.Purple,
    };
}
