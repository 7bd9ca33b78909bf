namespace Sim;

/// <summary>Divisors for splitting things evenly (nodes into leaves and groups, items into equal groups).</summary>
internal static class Divisors
{
    /// <summary>The largest divisor of <paramref name="n"/> that is at most <paramref name="cap"/> (1 when none larger).</summary>
    public static int LargestAtMost(int n, int cap)
    {
        for (var d = Math.Min(n, cap); d > 1; d--)
            if (n % d == 0) return d;
        return 1;
    }

    public static int Gcd(int a, int b) => b == 0 ? Math.Abs(a) : Gcd(b, a % b);
}
