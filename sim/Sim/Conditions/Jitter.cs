using System.Globalization;
using Sim.Config;

namespace Sim.Conditions;

/// <summary>
/// Compute jitter: each compute task of each simulated iteration takes a lognormal multiple of its time with mean 1
/// (exp(σZ − σ²/2)), so jitter alone leaves the mean task unchanged and can only lengthen the iteration through the
/// slowest rank of each synchronous phase. Draws are counter-based (seed, iteration, task), so a run's samples do not
/// depend on thread or call order: the same seed gives the same distribution, byte for byte.
/// </summary>
public sealed record Jitter(double Sigma)
{
    /// <summary>Largest accepted σ (e^{3σ} at 2 is a 400x spread: beyond that the model is not describing jitter).</summary>
    public const double MaxSigma = 2;

    public string Describe() => $"lognormal jitter σ={Sigma.ToString("0.####", CultureInfo.InvariantCulture)} per compute task";

    /// <summary>The factor of task <paramref name="task"/> in simulated iteration <paramref name="iteration"/>.</summary>
    public double Factor(ulong seed, int iteration, int task)
    {
        var h = Mix(seed ^ Mix(((ulong)(uint)iteration << 32) | (uint)task));
        // Two uniforms in (0, 1] from the two halves of a 128-bit stream, then Box-Muller.
        var u1 = ((h >> 11) + 1) * (1.0 / (1UL << 53));
        var u2 = ((Mix(h) >> 11) + 1) * (1.0 / (1UL << 53));
        var z = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
        return Math.Exp(Sigma * z - Sigma * Sigma / 2);
    }

    /// <summary>SplitMix64 finaliser.</summary>
    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Parses `lognormal:0.05` (the --jitter option).</summary>
    public static Jitter Parse(string text, string option = "--jitter")
    {
        var parts = text.Split(':', 2, StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || parts[0] != "lognormal")
            throw new SimInputException(option, "", $"expected lognormal:SIGMA (e.g. lognormal:0.05), found '{text}'");
        if (!double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var sigma) || !double.IsFinite(sigma))
            throw new SimInputException(option, "", $"expected a number for sigma, found '{parts[1]}'");
        return Create(sigma, msg => new SimInputException(option, "", msg));
    }

    public static Jitter Create(double sigma, Func<string, SimInputException> error)
    {
        if (!(sigma > 0)) throw error($"sigma must be positive, found {sigma.ToString(CultureInfo.InvariantCulture)} (leave jitter out for none)");
        if (sigma > MaxSigma) throw error($"sigma must be at most {MaxSigma.ToString(CultureInfo.InvariantCulture)}, found {sigma.ToString(CultureInfo.InvariantCulture)}");
        return new Jitter(sigma);
    }
}
