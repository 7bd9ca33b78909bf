using Sim.Accounting;
using Sim.Cost;
using Sim.Hardware;
using Sim.Topology;

namespace Sim.Iterations;

/// <summary>
/// Per rank, the seconds of the embedding lookup and of the embedding backward with its update, host-memory (UVM, SSD
/// caches) and SSD traffic included: the GPU waits on them. Without fitted operator models they depend only on the
/// plan's embedding work and <see cref="Key"/>, so a sweep's rows that share a plan compute them once.
/// </summary>
internal static class EmbeddingPhaseSeconds
{
    /// <summary>Uncorrected per-rank seconds from the roofline models (no fitted operator models).</summary>
    public static (double[] Lookup, double[] Backward) Roofline(EmbeddingWork emb, Cluster c, CostParameters p) =>
        IdentityMemo<EmbeddingWork, Key, (double[], double[])>.Get(Memo, emb, new Key(c.Gpu, p, c.Host, c.GpusPerNode), (emb, c, p),
            static s => Of(s.emb, s.c, s.p, null, null));

    /// <summary>What the formulas below read besides the embedding work; keep it in step with them.</summary>
    private readonly record struct Key(GpuSpec Gpu, CostParameters Cost, HostSpec Host, int GpusPerNode);

    private static readonly IdentityMemo<EmbeddingWork, Key, (double[], double[])>.Table Memo = new();

    /// <summary>Per-rank seconds; a fitted operator model's GPU seconds (<paramref name="lookupOf"/>, <paramref name="backwardOf"/>) replace the roofline's.</summary>
    public static (double[] Lookup, double[] Backward) Of(EmbeddingWork emb, Cluster c, CostParameters p, IReadOnlyList<double>? lookupOf, IReadOnlyList<double>? backwardOf)
    {
        var gpu = c.Gpu;
        var lookup = new double[emb.World];
        var backward = new double[emb.World];
        for (var r = 0; r < lookup.Length; r++)
        {
            lookup[r] = (lookupOf?[r] ?? ComputeCost.EmbeddingSeconds(gpu, p, emb.ForwardBytes[r], emb.Kernels[r]))
                + ComputeCost.UvmSeconds(c, p, emb.HostForwardBytes[r]) + ComputeCost.SsdReadSeconds(c, emb.SsdReadBytes[r]);
            backward[r] = (backwardOf?[r] ?? ComputeCost.EmbeddingBackwardSeconds(gpu, p, emb.BackwardBytes[r], emb.SparseShards[r]))
                + ComputeCost.UvmSeconds(c, p, emb.HostBackwardBytes[r]) + ComputeCost.SsdWriteSeconds(c, emb.SsdWriteBytes[r]);
        }
        return (lookup, backward);
    }
}
