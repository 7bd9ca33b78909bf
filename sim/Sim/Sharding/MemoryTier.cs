namespace Sim.Sharding;

/// <summary>
/// Where a table's rows live. Hbm: on the GPU. Uvm: in host DDR, read over the host link on every lookup.
/// UvmCaching: in host DDR with a GPU cache holding a fraction of the rows (FBGEMM's MANAGED_CACHING).
/// </summary>
public enum MemoryTier { Hbm, Uvm, UvmCaching }

public static class MemoryTiers
{
    public static readonly IReadOnlyDictionary<string, MemoryTier> Words = new Dictionary<string, MemoryTier>
    {
        ["hbm"] = MemoryTier.Hbm, ["uvm"] = MemoryTier.Uvm, ["uvm_caching"] = MemoryTier.UvmCaching,
    };

    public static string Name(this MemoryTier t) => Words.First(kv => kv.Value == t).Key;

    /// <summary>The default cache size of FBGEMM's caching placement: 20% of the rows.</summary>
    public const double DefaultCacheFraction = 0.2;
}
