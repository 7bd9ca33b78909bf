using Sim.Cost;
using Sim.Topology;

namespace Sim.Collectives;

/// <summary>
/// Collective times for the iteration graph: from a calibration fit of this op at this GPU count when the
/// profile has one (what was measured on the machine), else from the link model (<see cref="CollectiveModel"/>).
/// </summary>
internal static class CollectiveCost
{
    public const string AllToAllOp = Nccl.CollectiveOps.AllToAllName;
    public const string AllReduceOp = Nccl.CollectiveOps.AllReduceName;

    public static double[] AllToAllPerRank(Cluster c, CostParameters p, AllToAllDemand demand)
    {
        if (p.Fit(AllToAllOp, c.WorldSize) is not { } fit || c.WorldSize == 1 || demand.IsEmpty)
            return CollectiveModel.AllToAllPerRank(c, p, demand);
        // Per rank: the busier direction's bytes are that rank's bus bytes; as an nccl-tests size that is bytes / ((n-1)/n).
        return demand.PerRank(c).Select(t => fit.Seconds(Math.Max(t.Sent, t.Received) / fit.BusFactor)).ToArray();
    }

    public static double AllReduceSeconds(Cluster c, CostParameters p, double bytes)
    {
        var n = c.WorldSize;
        if (p.Fit(AllReduceOp, n) is not { } fit || n == 1 || bytes <= 0)
            return CollectiveModel.AllReduceSeconds(c, p, bytes);
        return fit.Seconds(bytes);
    }
}
