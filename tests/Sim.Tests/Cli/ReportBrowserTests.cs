using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Sim.Tests;

/// <summary>
/// The sweep report opened in a real browser (headless Chromium): every chart is in the rendered page and drawn, the
/// page logs nothing to the console, and a screenshot is kept (artifacts/report-screenshot.png). tests/run.sh installs
/// Debian's `chromium` when it is missing; only when that fails does it set SIM_SKIP_BROWSER=1, and says so.
/// </summary>
public partial class ReportBrowserTests
{
    [GeneratedRegex(@"(\d+) charts")]
    private static partial Regex Charts();

    private static string? Browser() =>
        new[] { "chromium", "chromium-browser", "google-chrome" }
            .SelectMany(name => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(dir => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);

    private static (string Stdout, string Stderr) Run(string browser, params string[] args)
    {
        var psi = new ProcessStartInfo(browser) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0" }.Concat(args)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        Assert.True(p.WaitForExit(60_000), "the browser did not finish within 60 s");
        return (stdout.Result, stderr);
    }

    [Fact]
    public void The_report_renders_every_chart_without_console_errors_in_a_real_browser()
    {
        var browser = Browser();
        if (browser is null)
        {
            Assert.True(Environment.GetEnvironmentVariable("SIM_SKIP_BROWSER") == "1",
                "no chromium on PATH: install Debian's `chromium` (tests/run.sh does) or set SIM_SKIP_BROWSER=1 to skip this test knowingly");
            return;
        }
        using var d = new SweepTests.SweepDir();
        Assert.Equal(0, CliRunner.Run("sweep", d.Sweep, "--out", d.Path("r.duckdb")).ExitCode);
        var report = CliRunner.Run("report", d.Path("r.duckdb"), "--out", d.Path("r.html"));
        Assert.True(report.ExitCode == 0, report.Stderr);
        var charts = int.Parse(Charts().Match(report.Stdout).Groups[1].Value);
        Assert.True(charts >= 3, report.Stdout);

        var url = new Uri(d.Path("r.html")).AbsoluteUri;
        var (dom, log) = Run(browser, "--dump-dom", url);
        // Every chart is in the page the browser built, and each has marks drawn in it.
        var svgs = Regex.Matches(dom, @"<svg[\s\S]*?</svg>").Select(m => m.Value).ToList();
        Assert.Equal(charts, svgs.Count);
        Assert.All(svgs, svg => Assert.True(Regex.Matches(svg, "<(path|polyline|line|rect|circle)").Count >= 10, "a chart with almost nothing drawn in it"));
        Assert.DoesNotContain(":CONSOLE", log);

        var shot = Fixtures.Repo("artifacts/report-screenshot.png");
        Directory.CreateDirectory(Path.GetDirectoryName(shot)!);
        File.Delete(shot);
        var (_, shotLog) = Run(browser, $"--screenshot={shot}", "--window-size=1280,4000", url);
        Assert.True(File.Exists(shot), shotLog);
        using var image = SkiaSharp.SKBitmap.Decode(shot);
        Assert.Equal(1280, image.Width);
        // Not a blank page: many distinct colours (the charts' lines, bars and heat map).
        var colours = new HashSet<uint>();
        for (var y = 0; y < image.Height; y += 7)
            for (var x = 0; x < image.Width; x += 7) colours.Add((uint)image.GetPixel(x, y));
        Assert.True(colours.Count > 50, $"the screenshot has {colours.Count} colours: the page did not render");
    }
}
