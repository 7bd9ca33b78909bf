using Sim.Topology;
using Sim.Workload;

namespace Sim.Cost.Operators;

/// <summary>
/// The compute phases of one step priced by a fitted stack's operator models, per rank: each phase takes the larger
/// of its kernels' device time and the host's time to issue them (an eager step whose GPU idles while Python issues
/// kernels is host-bound, and is predicted so). Framework work around the collectives (casts, packing, the gradient
/// concatenation before the all-reduce) is priced here too, as the kernels and issue costs it is.
/// </summary>
public sealed class FittedPhases
{
    public required double[] Lookup { get; init; }
    public required double[] EmbeddingBackward { get; init; }
    public required double DenseForward { get; init; }
    public required double DenseBackward { get; init; }
    public required double DenseOptimizer { get; init; }
    /// <summary>Seconds every rank spends before the index all-to-all: casts and, per row-split table, bucketising and a host read of the bucket sizes.</summary>
    public required double InputDistributionHost { get; init; }
    /// <summary>Seconds around each pooled all-to-all: a cast of what is sent and of what is received.</summary>
    public required double AllToAllHost { get; init; }
    /// <summary>Seconds before the all-reduce: flattening every gradient into one buffer.</summary>
    public required double AllReduceHost { get; init; }

    // Kernels a step issues around its operators, counted from the harness's and the reference runner's code:
    // per table a cast of its indices; per row-split table a bucketise, an argsort, gathers, a scatter of counts and a
    // device-to-host read of the sizes; per gradient tensor one flattening copy.
    private const double KernelsPerTableInput = 2, KernelsPerRowSplitTable = 12, KernelsAroundAllToAll = 3;

    public static FittedPhases Of(OperatorCosts ops, Cluster c, DlrmWorkload w, EmbeddingWork emb)
    {
        var world = c.WorldSize;
        var lookup = new double[world];
        var backward = new double[world];
        for (var r = 0; r < world; r++)
        {
            DeviceHost f = default, g = default;
            foreach (var s in emb.Shards[r])
            {
                f += ops.EmbeddingForward(s);
                g += ops.EmbeddingBackward(s, w.Optimizer);
            }
            lookup[r] = f.Seconds + ComputeCost.UvmSeconds(c, ops.Parameters, emb.HostForwardBytes[r]);
            backward[r] = g.Seconds + ComputeCost.UvmSeconds(c, ops.Parameters, emb.HostBackwardBytes[r]);
        }
        double b = emb.LocalBatch;
        var slices = ops.SliceAssembly(emb.Slices, b * emb.PooledWidth * 4);
        var denseParams = w.DenseParameters + emb.DataParallelParameters;
        var gradTensors = 2.0 * w.DenseOperators.Count + emb.Shards[0].Count(s => s.DataParallel) + 1;
        var tables = emb.Shards.Sum(l => l.Count);
        return new FittedPhases
        {
            Lookup = lookup,
            EmbeddingBackward = backward,
            DenseForward = ops.Dense(w, b, forward: true).Seconds,
            DenseBackward = (ops.Dense(w, b, forward: false) + slices).Seconds,
            DenseOptimizer = ops.DenseOptimizer(denseParams, w.Optimizer).Seconds,
            InputDistributionHost = ops.Issue(KernelsPerTableInput * tables / world + KernelsPerRowSplitTable * emb.RowSplitTables),
            AllToAllHost = ops.Issue(KernelsAroundAllToAll) + ops.Stream(2 * b * emb.PooledWidth * 4).Device,
            AllReduceHost = Math.Max(ops.Stream(2 * denseParams * 4).Device, ops.Issue(gradTensors)),
        };
    }

    private static CostParameters CostParametersOf(OperatorCosts ops) => ops.Parameters;
}
