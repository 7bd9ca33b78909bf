using Sim.Collectives;
using Sim.Cost;
using Sim.Sharding;
using Sim.Topology;
using Sim.Hardware;
using Sim.Workload;

namespace Sim.Accounting;

/// <summary>
/// What a plan asks of each rank for the embedding part of one iteration: bytes gathered and scattered
/// in HBM, and the three all-to-alls (indices in, pooled vectors out, gradients back). Lookups are
/// assumed uniform over rows, so a row-wise shard of k serves 1/k of a table's lookups. A layer above Cost and
/// Collectives: it builds both the shard loads the operator models price and the demands the collective models price.
/// </summary>
public sealed class EmbeddingWork
{
    public int World { get; }
    public long GlobalBatch { get; }
    public long LocalBatch { get; }
    public double[] ForwardBytes { get; }
    public double[] BackwardBytes { get; }
    /// <summary>Bytes of rows (and their optimizer state) read or written in host memory over the host link (UVM tiers).</summary>
    public double[] HostForwardBytes { get; }
    public double[] HostBackwardBytes { get; }
    /// <summary>Bytes the node's SSD reads (forward, DDR-cache misses) and writes back (backward) for a rank's SSD-tier shards, whole pages each.</summary>
    public double[] SsdReadBytes { get; }
    public double[] SsdWriteBytes { get; }
    public int[] Kernels { get; }
    /// <summary>Shards per rank whose backward runs the fused sparse update (every shard but data-parallel replicas).</summary>
    public int[] SparseShards { get; }
    /// <summary>Row-split tables (row-wise, table-row-wise): each rank bucketises its indices for each of them.</summary>
    public int RowSplitTables { get; private set; }
    /// <summary>Index bytes each rank sends to shard owners.</summary>
    public AllToAllDemand InputDistribution { get; }
    /// <summary>Pooled output elements (not bytes) each owner sends to every rank; backward is the transpose.</summary>
    public AllToAllDemand PooledElements { get; }
    /// <summary>The forward exchange of pooled vectors in bytes, at <paramref name="bytesPerElement"/> on the wire.</summary>
    public AllToAllDemand PooledBytes(int bytesPerElement) =>
        _pooledBytes[bytesPerElement] ??= PooledElements.Scaled(bytesPerElement);

    /// <summary>The backward exchange of their gradients (the transpose) in bytes, at <paramref name="bytesPerElement"/>.</summary>
    public AllToAllDemand GradientBytes(int bytesPerElement) =>
        _gradientBytes[bytesPerElement] ??= PooledElements.Transposed(bytesPerElement);

    // One per wire width (1 to 8 bytes): a sweep's rows share a plan's work and vary the precision. A race builds the
    // same demand twice; either copy serves.
    private readonly AllToAllDemand?[] _pooledBytes = new AllToAllDemand?[9], _gradientBytes = new AllToAllDemand?[9];

    /// <summary>Parameters of data-parallel tables, replicated on every rank and all-reduced as dense gradients.</summary>
    public double DataParallelParameters { get; }
    /// <summary>Per rank, the features of every shard it owns (data-parallel replicas included), for the operator models.</summary>
    public List<ShardLoad>[] Shards { get; }
    /// <summary>Embedding slices every rank cuts from the pooled vectors it receives and reassembles per table (one per shard of a sharded table).</summary>
    public int Slices { get; private set; }
    /// <summary>Pooled elements per sample every rank receives from the shard owners (sharded tables; data-parallel ones stay local).</summary>
    public double SlicedWidth { get; private set; }
    /// <summary>Pooled fp32 elements per sample every rank assembles for the dense model (Σ table dims × vectors per sample).</summary>
    public double PooledWidth { get; private set; }

    private EmbeddingWork(int world, long globalBatch, double dataParallelParameters)
    {
        World = world;
        DataParallelParameters = dataParallelParameters;
        GlobalBatch = globalBatch;
        LocalBatch = globalBatch / world;
        ForwardBytes = new double[world];
        BackwardBytes = new double[world];
        HostForwardBytes = new double[world];
        HostBackwardBytes = new double[world];
        SsdReadBytes = new double[world];
        SsdWriteBytes = new double[world];
        Kernels = new int[world];
        SparseShards = new int[world];
        Shards = new List<ShardLoad>[world];
        for (var r = 0; r < world; r++) Shards[r] = [];
        InputDistribution = new AllToAllDemand(world);
        PooledElements = new AllToAllDemand(world);
    }

    /// <summary>
    /// The work of (cluster, workload, plan), computed once per plan table list and <see cref="WorkKey"/> (everything
    /// else <see cref="Compute"/> reads): a sweep's rows that share a plan share its embedding work. Callers must not
    /// change the arrays of the result.
    /// </summary>
    public static EmbeddingWork Of(Cluster cluster, DlrmWorkload workload, ShardingPlan plan)
    {
        var key = new WorkKey(cluster.WorldSize, cluster.Host.Ssd, workload.GlobalBatchSize, workload.Optimizer, workload.Precision.Index);
        return IdentityMemo<IReadOnlyList<TablePlan>, WorkKey, EmbeddingWork>.Get(Memo, plan.Tables, key, (cluster, workload, plan),
            static s => Compute(s.cluster, s.workload, s.plan));
    }

    /// <summary>What <see cref="Compute"/> reads besides the plan's tables; keep it in step with that method.</summary>
    private readonly record struct WorkKey(int World, Hardware.SsdSpec? Ssd, long GlobalBatch, Optimizer Optimizer, DType IndexPrecision);

    private static readonly IdentityMemo<IReadOnlyList<TablePlan>, WorkKey, EmbeddingWork>.Table Memo = new();

    public static EmbeddingWork Compute(Cluster cluster, DlrmWorkload workload, ShardingPlan plan)
    {
        var world = cluster.WorldSize;
        double dpParams = 0;
        foreach (var t in plan.Tables)
            if (t.Scheme == ShardingScheme.DataParallel) dpParams += t.Table.Parameters;
        var w = new EmbeddingWork(world, workload.GlobalBatchSize, dpParams);
        var stateBytes = workload.Optimizer.StateBytesPerRow();
        var idxBytes = workload.Precision.Index.Bytes();
        double B = workload.GlobalBatchSize, b = w.LocalBatch;

        foreach (var tp in plan.Tables)
        {
            var t = tp.Table;
            if (tp.Scheme.SplitsRows()) w.RowSplitTables++;
            // Lookups per sample include sequence steps and negative samples; each sample yields V output vectors
            // (1 when pooled, the sequence length for sequence features).
            double L = t.LookupsPerSample, V = t.VectorsPerSample;
            var k = tp.Shards.Count;
            if (tp.Scheme != ShardingScheme.DataParallel) { w.Slices += k; w.SlicedWidth += (double)t.Dim * V; }
            w.PooledWidth += (double)t.Dim * V;
            // Row traffic splits between HBM (cache hits, or everything on the HBM tier) and host memory.
            var hit = tp.Tier == MemoryTier.Hbm ? 1.0 : CacheModel.HitRate(t, tp.HbmFraction);
            // SSD tier: the DDR cache's hit rate, from the same access skew as an HBM cache's.
            var ddrHit = tp.Tier == MemoryTier.Ssd ? CacheModel.HitRate(t, tp.CacheFraction) : 1.0;
            foreach (var s in tp.Shards)
            {
                var r = s.Rank;
                double c = s.Columns;
                w.Kernels[r] += 1;
                if (tp.Scheme == ShardingScheme.DataParallel)
                {
                    // Local batch only; the gradient is a dense rows x dim fp32 tensor, zeroed and scattered into.
                    w.ForwardBytes[r] += b * L * t.RowBytes(s.Columns) + b * V * c * 4;
                    w.BackwardBytes[r] += b * V * c * 4 + 2 * b * L * c * 4 + (double)t.Rows * c * 4;
                    w.Shards[r].Add(ShardLoad.Of(t, s.Rows, s.Columns, b, L, V, dataParallel: true, stateBytes));
                    continue;
                }
                w.SparseShards[r] += 1;
                // Sharded tables serve the global batch; a row-split shard sees the share of lookups its rows get
                // (uniform access: proportional to its row count).
                var perSample = tp.Scheme.SplitsRows() ? L * s.Rows / t.Rows : L;
                var lookups = B * perSample;
                var rowBytes = lookups * t.RowBytes(s.Columns);
                var stateRowBytes = lookups * stateBytes;
                w.ForwardBytes[r] += hit * rowBytes + B * V * c * 4;
                w.HostForwardBytes[r] += (1 - hit) * rowBytes;
                w.BackwardBytes[r] += B * V * c * 4 + hit * 2 * (rowBytes + stateRowBytes);
                w.HostBackwardBytes[r] += (1 - hit) * 2 * (rowBytes + stateRowBytes);
                if (tp.Tier == MemoryTier.Ssd)
                {
                    // A row is stored with its optimizer state; a missed lookup reads its page(s) into DDR (the update
                    // needs the state too) and the backward writes the updated row and state back.
                    var pageBytes = SsdSpecOf(cluster).IoBytes(t.RowBytes(s.Columns) + stateBytes);
                    w.SsdReadBytes[r] += (1 - ddrHit) * lookups * pageBytes;
                    w.SsdWriteBytes[r] += (1 - ddrHit) * lookups * pageBytes;
                }
                w.InputDistribution.FromEachPeer[r] += b * perSample * idxBytes;
                w.Shards[r].Add(ShardLoad.Of(t, s.Rows, s.Columns, B, perSample, V, dataParallel: false, stateBytes));
                // Row-wise: every shard sends a partial sum to every rank. Table-row-wise reduces the partials
                // inside the node first, so each rank gets one b x dim block per table, spread over the k shards.
                w.PooledElements.ToEachPeer[r] += (tp.Scheme == ShardingScheme.TableRowWise ? b * c / k : b * c) * V;
            }
        }
        return w;
    }

    private static Hardware.SsdSpec SsdSpecOf(Cluster c) =>
        c.Host.Ssd ?? throw new InvalidOperationException("a table on the SSD tier needs an SSD in the topology (host.ssd)");
}
