using Sim.Calibration;

namespace Sim.Cli;

/// <summary>Predicted against measured iteration time, one series per report, with the y = x line.</summary>
internal static class ValidationPlot
{
    public static void Save(string path, IReadOnlyList<ValidationReport> reports)
    {
        var plot = new ScottPlot.Plot();
        double max = 0;
        foreach (var rep in reports)
        {
            if (rep.Runs.Count == 0) continue;
            var xs = rep.Runs.Select(r => r.MeasuredSeconds * 1e3).ToArray();
            var ys = rep.Runs.Select(r => r.AnalyticalSeconds * 1e3).ToArray();
            var s = plot.Add.ScatterPoints(xs, ys);
            s.LegendText = $"{rep.Label} (MAPE {rep.AnalyticalMape:P1})";
            s.MarkerSize = 8;
            max = Math.Max(max, Math.Max(xs.Max(), ys.Max()));
        }
        var line = plot.Add.Line(0, 0, max * 1.05, max * 1.05);
        line.LegendText = "predicted = measured";
        line.LinePattern = ScottPlot.LinePattern.Dashed;
        plot.XLabel("measured iteration (ms)");
        plot.YLabel("predicted iteration (ms)");
        plot.Title("Sim: predicted vs measured");
        plot.ShowLegend(ScottPlot.Edge.Bottom);
        if (path.EndsWith(".svg", StringComparison.OrdinalIgnoreCase)) plot.SaveSvg(path, 800, 700);
        else plot.SavePng(path, 800, 700);
    }
}
