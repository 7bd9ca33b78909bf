namespace Sim.Harness.Training;

/// <summary>Derives independent 64-bit seeds from a run seed and a few integers (SplitMix64 finaliser, chained).</summary>
public static class Seeds
{
    public static ulong Mix(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    public static ulong Derive(long seed, params long[] parts)
    {
        var h = Mix(unchecked((ulong)seed));
        foreach (var p in parts) h = Mix(h ^ unchecked((ulong)p));
        return h;
    }

    /// <summary>Stream tags, so that tables, dense weights and data never share a seed.</summary>
    public const long TableStream = 0x7AB1E, DenseStream = 0xDE45E, DataStream = 0xDA7A;
}
