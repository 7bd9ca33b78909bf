using Sim.Sharding;
using Sim.Topology;

namespace Sim.Planning;

/// <summary>A memory tier with its cache fraction: where one table's rows go.</summary>
internal readonly record struct TierStep(MemoryTier Tier, double CacheFraction)
{
    public static readonly TierStep Hbm = new(MemoryTier.Hbm, 0);

    /// <summary>The placement in this tier.</summary>
    public TablePlan Apply(TablePlan tp) => tp.InTier(Tier, CacheFraction);

    /// <summary>
    /// Position from slowest to fastest memory: SSD with a DDR cache of f at f − 1, UVM at 0, UVM caching with an HBM
    /// cache of f at f, HBM at 1.
    /// </summary>
    public double Level => Tier switch { MemoryTier.Ssd => CacheFraction - 1, MemoryTier.Uvm => 0, MemoryTier.UvmCaching => CacheFraction, _ => 1 };

    /// <summary>The share of the rows in HBM: 1 on HBM, the HBM cache's on UVM caching, else 0.</summary>
    public double HbmShare => Tier switch { MemoryTier.Hbm => 1, MemoryTier.UvmCaching => CacheFraction, _ => 0 };

    public static TierStep Of(TablePlan tp) => new(tp.Tier, tp.CacheFraction);
}

/// <summary>
/// The tiers a table may step through, slowest first: on SSD with a host-DDR cache of each of
/// <see cref="TierChoice.Fractions"/> below 1 (only where the cluster has an SSD), UVM, UVM caching with each HBM cache
/// fraction, HBM. Planners that fall back to a smaller cache (<see cref="Placements.SplitOrSpill"/>) or search the
/// tiers (<see cref="OptimalPlanner"/>) walk it.
/// </summary>
internal static class TierLadder
{
    private static readonly TierStep[] Memory = TierChoice.Fractions.Select(TierChoice.StepOfShare).ToArray();

    private static readonly TierStep[] WithSsd = TierChoice.Fractions.Where(f => f < 1).Select(f => new TierStep(MemoryTier.Ssd, f)).Concat(Memory).ToArray();

    public static IReadOnlyList<TierStep> For(Cluster c) => c.Host.Ssd is null ? Memory : WithSsd;

    /// <summary>HBM and the UVM tiers only: for searches that leave the SSD alone unless the plan already uses it.</summary>
    public static IReadOnlyList<TierStep> WithoutSsd => Memory;

    /// <summary>The highest step at or below the placement's tier and cache.</summary>
    public static int IndexOf(IReadOnlyList<TierStep> ladder, TablePlan tp)
    {
        var level = TierStep.Of(tp).Level;
        var at = 0;
        for (var i = 0; i < ladder.Count; i++) if (ladder[i].Level <= level) at = i;
        return at;
    }
}
