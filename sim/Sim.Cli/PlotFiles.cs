using Sim.Config;

namespace Sim.Cli;

/// <summary>Plots are written as PNG or SVG, chosen by the file's extension.</summary>
internal static class PlotFiles
{
    public static void CheckExtension(string path, string option)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        if (ext is not (".png" or ".svg"))
            throw new SimInputException(option, "", $"'{path}' must end in .png or .svg");
    }

    public static void Save(ScottPlot.Plot plot, string path, int width, int height)
    {
        var full = Path.GetFullPath(path);
        if (Path.GetExtension(path).Equals(".svg", StringComparison.OrdinalIgnoreCase)) plot.SaveSvg(full, width, height);
        else plot.SavePng(full, width, height);
    }
}
