using System.Diagnostics;
using System.Globalization;

namespace Sim.Cli;

/// <summary>
/// Time left in a sweep from the average rate since the start (not the last few points: rows differ in cost, so a
/// short window makes the estimate jump), and only once there is something to average: 2% of the rows or 5 s.
/// </summary>
internal sealed class SweepEta(long total)
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public double ElapsedSeconds => _clock.Elapsed.TotalSeconds;

    /// <summary>Seconds left after <paramref name="done"/> rows, or null while too early to say.</summary>
    public double? SecondsLeft(long done)
    {
        var t = _clock.Elapsed.TotalSeconds;
        if (done <= 0 || (done < total * 0.02 && t < 5)) return null;
        return t / done * (total - done);
    }

    public string Text(long done) => SecondsLeft(done) is { } s ? "about " + Duration(s) + " left" : "estimating the time left";

    public static string Duration(double seconds)
    {
        var inv = CultureInfo.InvariantCulture;
        if (seconds < 1) return "under 1 s";
        if (seconds < 90) return $"{Math.Ceiling(seconds).ToString("0", inv)} s";
        if (seconds < 5400) return $"{Math.Ceiling(seconds / 60).ToString("0", inv)} min";
        return $"{(seconds / 3600).ToString("0.0", inv)} h";
    }
}
