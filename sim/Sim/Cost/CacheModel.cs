using Sim.Workload;

namespace Sim.Cost;

/// <summary>
/// Hit rate of an HBM cache holding a fraction of a table's rows. With uniform access it is the fraction
/// itself; skewed access (the table's `access`: Zipf or a hot set) makes it higher. The cache is assumed
/// to hold the hottest rows (LFU).
/// </summary>
internal static class CacheModel
{
    public static double HitRate(EmbeddingTable table, double cacheFraction) =>
        Math.Clamp(table.HitRate(Math.Clamp(cacheFraction, 0, 1)), 0, 1);
}
