namespace Sim.Sharding;

/// <summary>
/// Where a table's rows live. Hbm: on the GPU. Uvm: in host DDR, read over the host link on every lookup.
/// UvmCaching: in host DDR with a GPU cache holding a fraction of the rows (FBGEMM's MANAGED_CACHING).
/// Ssd: on the node's SSD (`host.ssd`) with a host-DDR cache holding a fraction of the rows; every lookup crosses the
/// host link as with UVM, and a cache miss first reads the row's page from the SSD.
/// </summary>
public enum MemoryTier { Hbm, Uvm, UvmCaching, Ssd }

internal static class MemoryTiers
{
    public static readonly IReadOnlyDictionary<string, MemoryTier> Words = new Dictionary<string, MemoryTier>
    {
        ["hbm"] = MemoryTier.Hbm, ["uvm"] = MemoryTier.Uvm, ["uvm_caching"] = MemoryTier.UvmCaching, ["ssd"] = MemoryTier.Ssd,
    };

    /// <summary>Whether the tier's placement has a cache fraction (an HBM cache for UVM caching, a DDR cache for SSD).</summary>
    public static bool IsCached(this MemoryTier t) => t is MemoryTier.UvmCaching or MemoryTier.Ssd;

    public static string Name(this MemoryTier t) => Words.First(kv => kv.Value == t).Key;

    /// <summary>The default cache size of FBGEMM's caching placement: 20% of the rows.</summary>
    public const double DefaultCacheFraction = 0.2;
}
