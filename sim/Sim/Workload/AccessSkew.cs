namespace Sim.Workload;

public enum AccessKind { Uniform, Zipf, HotSet }

/// <summary>
/// How a table's lookups spread over its rows. Uniform: every row equally likely. Zipf(s): the row of rank i is
/// looked up with probability proportional to i^-s. HotSet(f, h): a hot fraction f of the rows receives a share h of
/// the lookups, uniformly inside the hot and the cold set.
/// </summary>
public sealed record AccessSkew(AccessKind Kind, double Exponent = 0, double HotFraction = 0, double HotShare = 0)
{
    public static readonly AccessSkew Uniform = new(AccessKind.Uniform);

    public static AccessSkew Zipf(double exponent) => new(AccessKind.Zipf, Exponent: exponent);

    public static AccessSkew HotSet(double hotFraction, double hotShare) => new(AccessKind.HotSet, HotFraction: hotFraction, HotShare: hotShare);

    /// <summary>
    /// Fraction of lookups that hit a cache holding the hottest <paramref name="cacheFraction"/> of <paramref name="rows"/>
    /// rows. Zipf: H(floor(f·N), s) / H(N, s) with H the generalised harmonic number; hot set: piecewise linear.
    /// </summary>
    public double HitRate(long rows, double cacheFraction)
    {
        var f = Math.Clamp(double.IsNaN(cacheFraction) ? 0 : cacheFraction, 0, 1);
        if (f == 0) return 0;
        if (f == 1 || rows <= 0) return 1;
        switch (Kind)
        {
            case AccessKind.Zipf:
                var cached = Math.Floor(f * rows);
                return cached <= 0 ? 0 : Math.Min(1, Harmonic(cached, Exponent) / Harmonic(rows, Exponent));
            case AccessKind.HotSet:
                return f <= HotFraction
                    ? HotShare * f / HotFraction
                    : HotShare + (1 - HotShare) * (f - HotFraction) / (1 - HotFraction);
            default:
                return f;
        }
    }

    public string Describe() => Kind switch
    {
        AccessKind.Zipf => $"zipf {Exponent.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)}",
        AccessKind.HotSet => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{HotShare:0.###} of lookups on {HotFraction:0.###} of rows"),
        _ => "uniform",
    };

    private const int DirectTerms = 10_000;

    /// <summary>
    /// Generalised harmonic number H(n, s) = Σ_{k=1..n} k^-s for n up to 10^15: the first 10,000 terms summed,
    /// the rest by Euler–Maclaurin (integral, end-point and two derivative corrections; relative error far below 1e-12).
    /// </summary>
    public static double Harmonic(double n, double s)
    {
        n = Math.Floor(n);
        if (n <= 0) return 0;
        double sum = 0;
        var direct = (long)Math.Min(n, DirectTerms - 1);
        for (var k = direct; k >= 1; k--) sum += Math.Pow(k, -s); // small terms first
        if (n <= direct) return sum;
        double a = DirectTerms, b = n;
        // ∫_a^b x^-s dx, written to stay accurate when s is near 1.
        var logRatio = Math.Log(b / a);
        var oneMinusS = 1 - s;
        var integral = Math.Abs(oneMinusS * logRatio) < 1e-12
            ? logRatio * Math.Pow(a, oneMinusS)
            : Math.Pow(a, oneMinusS) * double.ExpM1(oneMinusS * logRatio) / oneMinusS;
        var ends = (Math.Pow(a, -s) + Math.Pow(b, -s)) / 2;
        var first = s / 12 * (Math.Pow(a, -s - 1) - Math.Pow(b, -s - 1));
        var third = s * (s + 1) * (s + 2) / 720 * (Math.Pow(a, -s - 3) - Math.Pow(b, -s - 3));
        return sum + integral + ends + first - third;
    }
}
