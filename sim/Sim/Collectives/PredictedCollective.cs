using Sim.Cost;
using Sim.Config;
using Sim.Nccl;
using Sim.Topology;

namespace Sim.Collectives;

/// <summary>
/// A collective priced exactly as a prediction prices its collective tasks (<see cref="CollectiveCost"/>: the profile's
/// measured curve for this op at this GPU count, else the closed-form link model), as nccl-tests would report it.
/// `sim collective` shows this by default, so what it prints is what an iteration pays for the same op and size.
/// </summary>
internal static class PredictedCollective
{
    /// <param name="bytes">nccl-tests size in FP32 bytes: the all-reduced buffer, or one rank's all-to-all send buffer.</param>
    public static CollectiveEstimate Estimate(Cluster c, CostParameters p, CollectiveOp op, double bytes, CommPrecision wire)
    {
        if (wire.RowOverheadBytes > 0)
            throw new SimInputException("--dtype", "", $"{wire.Name} row-wise is priced only by the routed model (--model routed): predictions send fp32, fp16 or bf16 payloads");
        var wireBytes = bytes * wire.BytesPerElement / CommPrecision.Fp32BytesPerElement;
        var n = c.WorldSize;
        double seconds;
        switch (op)
        {
            case CollectiveOp.AllReduce:
                seconds = CollectiveCost.AllReduceSeconds(c, p, wireBytes);
                break;
            case CollectiveOp.AllToAll:
                var demand = new AllToAllDemand(n);
                Array.Fill(demand.ToEachPeer, wireBytes / n);
                seconds = CollectiveCost.AllToAllPerRank(c, p, demand).Max();
                break;
            default:
                throw new SimInputException("--op", "", $"predictions price all_reduce and all_to_all only; {op.Word()} is modelled by the routed model (--model routed)");
        }
        var measured = p.Fit(op == CollectiveOp.AllReduce ? CollectiveCost.AllReduceOp : CollectiveCost.AllToAllOp, n) is not null && n > 1;
        return new CollectiveEstimate(op, CollectiveAlgorithm.Auto, measured ? "measured" : "link model", n, bytes, wire.Name, wireBytes, seconds, seconds, 0, [],
            new Dictionary<string, double>());
    }
}
