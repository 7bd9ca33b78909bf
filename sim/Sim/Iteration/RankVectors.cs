using System.Numerics;

namespace Sim.Iterations;

/// <summary>
/// Element-wise operations on per-rank vectors, SIMD where the machine has it: the longest path and the report run
/// block by block over them for every sweep row. Each element gets exactly the scalar result (add, subtract and max are
/// exact per element; nothing is fused).
/// </summary>
internal static class RankVectors
{
    /// <summary>acc[r] = max(acc[r], x[r] + shift).</summary>
    public static void MaxOf(Span<double> acc, ReadOnlySpan<double> x, double shift = 0)
    {
        var r = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var s = new Vector<double>(shift);
            for (; r <= acc.Length - Vector<double>.Count; r += Vector<double>.Count)
                Vector.Max(new Vector<double>(acc[r..]), new Vector<double>(x[r..]) + s).CopyTo(acc[r..]);
        }
        for (; r < acc.Length; r++) acc[r] = Math.Max(acc[r], x[r] + shift);
    }

    /// <summary>acc[r] = max(acc[r], value).</summary>
    public static void MaxOf(Span<double> acc, double value)
    {
        var r = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var v = new Vector<double>(value);
            for (; r <= acc.Length - Vector<double>.Count; r += Vector<double>.Count)
                Vector.Max(new Vector<double>(acc[r..]), v).CopyTo(acc[r..]);
        }
        for (; r < acc.Length; r++) acc[r] = Math.Max(acc[r], value);
    }

    /// <summary>sum[r] = a[r] + b[r].</summary>
    public static void Sum(Span<double> sum, ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var r = 0;
        if (Vector.IsHardwareAccelerated)
            for (; r <= sum.Length - Vector<double>.Count; r += Vector<double>.Count)
                (new Vector<double>(a[r..]) + new Vector<double>(b[r..])).CopyTo(sum[r..]);
        for (; r < sum.Length; r++) sum[r] = a[r] + b[r];
    }

    /// <summary>acc[r] += a[r] - b[r].</summary>
    public static void AddDifference(Span<double> acc, ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var r = 0;
        if (Vector.IsHardwareAccelerated)
            for (; r <= acc.Length - Vector<double>.Count; r += Vector<double>.Count)
                (new Vector<double>(acc[r..]) + (new Vector<double>(a[r..]) - new Vector<double>(b[r..]))).CopyTo(acc[r..]);
        for (; r < acc.Length; r++) acc[r] += a[r] - b[r];
    }
}
