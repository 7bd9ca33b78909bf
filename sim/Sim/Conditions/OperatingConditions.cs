using System.Globalization;
using Sim.Topology;

namespace Sim.Conditions;

/// <summary>
/// The non-ideal conditions a prediction runs under: slow ranks and jitter, other jobs' traffic on the fabric, and
/// degraded hardware; with the seed and the number of iterations simulated when jitter makes iterations differ.
/// <see cref="None"/> is the ideal cluster every prediction assumed before.
/// </summary>
public sealed record OperatingConditions(Stragglers Stragglers, BackgroundLoad Background, LinkOverlay? Degrade, int Iterations, ulong Seed)
{
    public const ulong DefaultSeed = 1;
    /// <summary>Iterations simulated with jitter unless told: enough for a stable p90, few enough for event mode.</summary>
    public const int DefaultIterations = 100;
    public const int MaxIterations = 100_000;

    public static readonly OperatingConditions None = new(Stragglers.None, BackgroundLoad.None, null, DefaultIterations, DefaultSeed);

    public bool IsNone => Stragglers.IsNone && Background.IsNone && Degrade is null;

    /// <summary>Iterations to simulate: without jitter every iteration is the same, so one.</summary>
    public int SampleCount => Stragglers.Jitter is null ? 1 : Iterations;

    /// <summary>One line per condition set, for the report (empty when none).</summary>
    public IEnumerable<string> Describe()
    {
        if (!Stragglers.IsNone) yield return $"stragglers: {Stragglers.Describe()}";
        if (!Background.IsNone) yield return $"background: other jobs take {Background.Describe()}";
        if (Degrade is { } d) yield return $"degraded:   {d.Describe()}";
        if (Stragglers.Jitter is not null)
            yield return $"sampling:   {Iterations.ToString(CultureInfo.InvariantCulture)} iterations, seed {Seed.ToString(CultureInfo.InvariantCulture)}";
    }
}
