using System.Globalization;
using ScottPlot;
using Sim.Sweep;
using Sim.Iterations;

namespace Sim.Cli;

/// <summary>
/// The charts of a sweep report, drawn with ScottPlot: scaling curves (throughput and efficiency against GPUs, log
/// axes where sizes double), a stacked per-phase breakdown (absolute and share) and a two-knob heatmap.
/// Each builder returns a <see cref="Plot"/>; <see cref="Save"/> writes PNG or SVG by extension.
/// </summary>
internal static class SweepPlots
{
    public const int Width = 1000;
    public const int Height = 520;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Save(Plot plot, string path, int width = Width, int height = Height)
    {
        if (path.EndsWith(".svg", StringComparison.OrdinalIgnoreCase)) plot.SaveSvg(path, width, height);
        else plot.SavePng(path, width, height);
    }

    /// <summary>Compact number: 950, 12.3k, 4.56M.</summary>
    public static string Compact(double v)
    {
        var a = Math.Abs(v);
        return a >= 1e9 ? (v / 1e9).ToString("0.##", Inv) + "G"
            : a >= 1e6 ? (v / 1e6).ToString("0.##", Inv) + "M"
            : a >= 1e3 ? (v / 1e3).ToString("0.##", Inv) + "k"
            : v.ToString("0.##", Inv);
    }

    private static void GpuAxis(Plot plot, IEnumerable<int> gpus)
    {
        var ticks = gpus.Distinct().Order().ToArray();
        plot.Axes.Bottom.SetTicks(ticks.Select(g => Math.Log2(g)).ToArray(), ticks.Select(g => g.ToString(Inv)).ToArray());
        plot.XLabel("GPUs (log scale)");
    }

    /// <summary>Log-scale ticks at 1, 2, 5 x 10^k (finer when the range spans less than a decade), labelled compactly.</summary>
    private static void LogY(Plot plot, double lo, double hi)
    {
        double[][] steps = [[1, 2, 5], [1, 1.5, 2, 3, 5, 7]];
        var ticks = new List<double>();
        foreach (var mult in steps)
        {
            ticks.Clear();
            for (var k = (int)Math.Floor(lo); k <= (int)Math.Ceiling(hi); k++)
                foreach (var m in mult)
                {
                    var v = Math.Log10(m) + k;
                    if (v >= lo && v <= hi) ticks.Add(v);
                }
            if (ticks.Count >= 4) break;
        }
        plot.Axes.Left.SetTicks(ticks.ToArray(), ticks.Select(t => Compact(Math.Pow(10, t))).ToArray());
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.12);
    }

    private static Plot Styled(string title)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.Axes.Title.Label.FontSize = 16;
        return plot;
    }

    public static Plot Throughput(IReadOnlyList<ScalingSeries> series, string title)
    {
        var plot = Styled(title);
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var sc = plot.Add.Scatter(s.Points.Select(p => Math.Log2(p.Gpus)).ToArray(), s.Points.Select(p => Math.Log10(p.SamplesPerSecond)).ToArray());
            sc.Color = palette.GetColor(i);
            sc.LineWidth = 2;
            sc.MarkerSize = 7;
            sc.LegendText = s.Label;
        }
        // Linear scaling from the first curve's first point, for reference (it may leave the chart).
        if (series.Count > 0 && series[0].Points.Count > 1)
        {
            var s0 = series[0].Points;
            var ideal = plot.Add.Scatter(s0.Select(p => Math.Log2(p.Gpus)).ToArray(),
                s0.Select(p => Math.Log10(s0[0].SamplesPerSecond * p.Gpus / s0[0].Gpus)).ToArray());
            ideal.Color = Colors.Gray;
            ideal.LinePattern = LinePattern.Dashed;
            ideal.MarkerSize = 0;
            ideal.LegendText = "linear scaling (first curve)";
        }
        GpuAxis(plot, series.SelectMany(s => s.Points.Select(p => p.Gpus)));
        plot.YLabel("samples/s (log scale)");
        var all = series.SelectMany(s => s.Points).Select(p => Math.Log10(p.SamplesPerSecond)).ToList();
        if (all.Count > 0)
        {
            var xs = series.SelectMany(s => s.Points).Select(p => Math.Log2(p.Gpus)).ToList();
            var (lo, hi) = (all.Min(), all.Max());
            var pad = Math.Max(0.1, (hi - lo) * 0.12);
            plot.Axes.SetLimits(xs.Min() - 0.3, xs.Max() + 0.3, lo - pad, hi + pad);
            LogY(plot, lo - pad, hi + pad);
        }
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>Samples/s (or the slowdown, with the 1/(1 − f) of a fully scale-out-bound step for reference) against background load.</summary>
    public static Plot Background(IReadOnlyList<BackgroundSeries> series, string title, bool slowdown)
    {
        var plot = Styled(title);
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var sc = plot.Add.Scatter(s.Points.Select(p => p.Load * 100).ToArray(), s.Points.Select(p => slowdown ? p.Slowdown : p.SamplesPerSecond).ToArray());
            sc.Color = palette.GetColor(i % 10);
            sc.LineWidth = 2;
            sc.MarkerSize = 7;
            sc.LegendText = s.Label;
        }
        if (slowdown && series.Count > 0)
        {
            var loads = series.SelectMany(s => s.Points.Select(p => p.Load)).Distinct().Order().ToArray();
            var bound = plot.Add.Scatter(loads.Select(f => f * 100).ToArray(), loads.Select(f => 1 / (1 - f)).ToArray());
            bound.Color = Colors.Gray;
            bound.LinePattern = LinePattern.Dashed;
            bound.MarkerSize = 0;
            bound.LegendText = "1/(1 - load): all time on the scale-out fabric";
        }
        plot.XLabel("background load on the scale-out links, %");
        plot.YLabel(slowdown ? "slowdown (iteration / iteration at the lightest load)" : "samples/s");
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>
    /// The spread of each jittered configuration's iterations: p90 and p99 above p50, in percent (its p50 is in the
    /// table beside it; drawn on one scale, a 1% tail vanishes between configurations 10x apart).
    /// </summary>
    public static Plot Distribution(IReadOnlyList<SweepRow> rows, IReadOnlyList<string> labels, string title)
    {
        var plot = Styled(title);
        var xs = Enumerable.Range(0, rows.Count).Select(i => (double)i).ToArray();
        (string Name, Func<SweepRow, double> Get, ScottPlot.Color Color)[] marks =
        [
            ("p90", r => r.IterationSecondsP90!.Value, Colors.Orange),
            ("p99", r => r.IterationSecondsP99!.Value, Colors.Crimson),
        ];
        foreach (var (name, get, color) in marks)
        {
            var sc = plot.Add.Scatter(xs, rows.Select(r => (get(r) / r.IterationSecondsP50!.Value - 1) * 100).ToArray());
            sc.LineWidth = 0;
            sc.MarkerSize = 9;
            sc.Color = color;
            sc.LegendText = $"{name} above p50";
        }
        plot.Axes.Bottom.SetTicks(xs, labels.ToArray());
        plot.Axes.Bottom.TickLabelStyle.Rotation = -40;
        plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
        plot.Axes.Bottom.MinimumSize = Math.Min(220, 20 + labels.Select(l => l.Length).DefaultIfEmpty(0).Max() * 5);
        plot.YLabel("iteration time above p50, %");
        plot.Axes.SetLimitsY(0, Math.Max(1, rows.Select(r => (r.IterationSecondsP99!.Value / r.IterationSecondsP50!.Value - 1) * 100).DefaultIfEmpty(0).Max() * 1.15));
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    public static Plot Efficiency(IReadOnlyList<ScalingSeries> series, string title)
    {
        var plot = Styled(title);
        var palette = new ScottPlot.Palettes.Category10();
        for (var i = 0; i < series.Count; i++)
        {
            var s = series[i];
            var sc = plot.Add.Scatter(s.Points.Select(p => Math.Log2(p.Gpus)).ToArray(), s.Points.Select(p => p.Efficiency * 100).ToArray());
            sc.Color = palette.GetColor(i);
            sc.LineWidth = 2;
            sc.MarkerSize = 7;
            sc.LegendText = s.Label;
        }
        var line = plot.Add.HorizontalLine(100);
        line.Color = Colors.Gray;
        line.LinePattern = LinePattern.Dashed;
        GpuAxis(plot, series.SelectMany(s => s.Points.Select(p => p.Gpus)));
        plot.YLabel("scaling efficiency, %");
        var max = series.SelectMany(s => s.Points).Select(p => p.Efficiency * 100).DefaultIfEmpty(100).Max();
        plot.Axes.SetLimitsY(0, Math.Max(110, max * 1.1));
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    /// <summary>Stacked bars of the critical-path seconds per phase, one bar per configuration; <paramref name="share"/> draws percentages.</summary>
    public static Plot Breakdown(IReadOnlyList<SweepRow> rows, IReadOnlyList<string> labels, string title, bool share)
    {
        var plot = Styled(title);
        var palette = new ScottPlot.Palettes.Category10();
        var colours = Phases.All.Select((p, i) => palette.GetColor(i)).ToArray();
        var bars = new List<Bar>();
        for (var x = 0; x < rows.Count; x++)
        {
            var ph = rows[x].PhaseSeconds!;
            var total = ph.Sum();
            double y = 0;
            for (var i = 0; i < Phases.All.Count && i < ph.Count; i++)
            {
                var v = share ? (total > 0 ? ph[i] / total * 100 : 0) : ph[i] * 1e3;
                if (v <= 0) continue;
                bars.Add(new Bar { Position = x, ValueBase = y, Value = y + v, FillColor = colours[i], LineWidth = 0, Size = 0.7 });
                y += v;
            }
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, rows.Count).Select(i => (double)i).ToArray(), labels.ToArray());
        var rotate = rows.Count > 8 || labels.Any(l => l.Length > 10);
        if (rotate)
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = -40;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
            // Room for the longest slanted label (about 6 px per character at this size).
            plot.Axes.Bottom.MinimumSize = Math.Min(220, 20 + labels.Select(l => l.Length).DefaultIfEmpty(0).Max() * 5);
        }
        plot.YLabel(share ? "share of the iteration, %" : "milliseconds per iteration (critical path)");
        plot.Axes.Margins(bottom: 0);
        if (share) plot.Axes.SetLimitsY(0, 100);
        for (var i = 0; i < Phases.All.Count; i++)
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = Phases.All[i] + (Phases.IsCommunication(Phases.All[i]) ? " (comm)" : ""), FillColor = colours[i] });
        plot.ShowLegend(Edge.Right);
        return plot;
    }

    public static Plot Heatmap(HeatmapData h, string title)
    {
        var plot = Styled(title);
        var rows = h.YValues.Count;
        var cols = h.XValues.Count;
        // Log colour scale: throughput spans orders of magnitude across cluster sizes. Cells are drawn as rectangles
        // centred on their tick (exact for any shape, one row or column included); the hidden heatmap only feeds the colour bar.
        var data = new double[rows, cols];
        for (var i = 0; i < rows; i++)
            for (var j = 0; j < cols; j++)
                data[rows - 1 - i, j] = h.Values[i, j] > 0 ? Math.Log10(h.Values[i, j]) : double.NaN;
        var colormap = new ScottPlot.Colormaps.Viridis();
        var finite = data.Cast<double>().Where(double.IsFinite).ToList();
        var (lo, hi) = finite.Count > 0 ? (finite.Min(), finite.Max()) : (0, 1);
        if (hi - lo < 1e-9) { lo -= 0.05; hi += 0.05; }
        for (var i = 0; i < rows; i++)
            for (var j = 0; j < cols; j++)
            {
                var v = h.Values[i, j];
                var cell = plot.Add.Rectangle(j - 0.5, j + 0.5, i - 0.5, i + 0.5);
                cell.FillColor = v > 0 ? colormap.GetColor((Math.Log10(v) - lo) / (hi - lo)) : Colors.LightGray;
                cell.LineWidth = 0;
            }
        var hm = plot.Add.Heatmap(data);
        hm.Colormap = colormap;
        hm.ManualRange = new ScottPlot.Range(lo, hi);
        hm.IsVisible = false;
        var bar = plot.Add.ColorBar(hm);
        bar.Label = "samples/s (log colour)";
        bar.Axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => Compact(Math.Pow(10, v)) };
        if (rows * cols <= 400)
        {
            for (var i = 0; i < rows; i++)
                for (var j = 0; j < cols; j++)
                {
                    var v = h.Values[i, j];
                    var t = plot.Add.Text(double.IsNaN(v) ? "n/a" : Compact(v), j, i);
                    t.LabelAlignment = Alignment.MiddleCenter;
                    t.LabelFontSize = cols > 10 ? 10 : 12;
                    // Dark text on the light (yellow) end of viridis, white elsewhere.
                    t.LabelFontColor = double.IsNaN(v) ? Colors.DimGray : (Math.Log10(v) - lo) / (hi - lo) > 0.62 ? Colors.Black : Colors.White;
                    t.LabelBold = true;
                }
        }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, cols).Select(i => (double)i).ToArray(), h.XValues.ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, rows).Select(i => (double)i).ToArray(), h.YValues.ToArray());
        plot.XLabel(h.X.Label);
        plot.YLabel(h.Y.Label);
        plot.Axes.SetLimits(-0.5, cols - 0.5, -0.5, rows - 0.5);
        plot.HideGrid();
        return plot;
    }
}
