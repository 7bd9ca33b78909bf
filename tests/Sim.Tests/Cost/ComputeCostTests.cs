using Sim.Accounting;
using Sim.Cost;
using Sim.Hardware;
using Sim.Workload;

namespace Sim.Tests;

public class ComputeCostTests
{
    private static readonly GpuSpec Gpu = new("g", new Dictionary<DType, double> { [DType.Fp32] = 10e12, [DType.Bf16] = 100e12 }, 1L << 34, 1e12, Provenance.Default);
    private static readonly CostParameters P = new() { GemmEfficiency = 0.5, MemoryEfficiency = 0.5, EmbeddingEfficiency = 0.25, KernelOverheadSeconds = 1e-6 };

    [Fact]
    public void Compute_bound_matmul_is_flops_over_achieved_peak()
    {
        // 4096^3 fp32: 2·4096³ FLOPs at 5 TFLOP/s achieved; bytes 3·4096²·4 at 0.5 TB/s is far smaller.
        var expected = 2.0 * 4096 * 4096 * 4096 / 5e12 + 1e-6;
        Assert.Equal(expected, ComputeCost.MatmulSeconds(Gpu, P, DType.Fp32, 4096, 4096, 4096), 12);
    }

    [Fact]
    public void Memory_bound_matmul_is_bytes_over_achieved_bandwidth()
    {
        // A 1 x 8192 by 8192 x 1 product (GEMV-like): 2·8192² FLOPs is tiny; 8192²·2 bytes (bf16) dominates.
        const double m = 1, k = 8192, n = 8192;
        var bytes = (m * k + k * n + m * n) * 2;
        Assert.Equal(bytes / 0.5e12 + 1e-6, ComputeCost.MatmulSeconds(Gpu, P, DType.Bf16, m, k, n), 12);
    }

    [Fact]
    public void Embedding_cost_is_bytes_over_gather_bandwidth_plus_launches()
    {
        Assert.Equal(1e9 / 0.25e12 + 3e-6, ComputeCost.EmbeddingSeconds(Gpu, P, 1e9, 3), 12);
        Assert.Equal(0, ComputeCost.EmbeddingSeconds(Gpu, P, 0, 3));
    }

    [Fact]
    public void Dense_layers_and_interaction_are_counted_by_hand()
    {
        var w = Fixtures.Workload();
        // bottom 13-64-32, top (32 + 5·4/2 = 42)-64-1
        Assert.Equal([new DenseLayer(13, 64), new DenseLayer(64, 32)], w.BottomLayers);
        Assert.Equal(42, w.InteractionOutputs);
        Assert.Equal([new DenseLayer(42, 64), new DenseLayer(64, 1)], w.TopLayers);
        Assert.Equal(13 * 64 + 64 + 64 * 32 + 32 + 42 * 64 + 64 + 64 + 1, w.DenseParameters);
        Assert.Equal(2.0 * 5 * 5 * 32, w.InteractionFlopsPerSample);
    }

    [Fact]
    public void Embedding_work_of_a_table_wise_table_is_counted_by_hand()
    {
        var c = Fixtures.Cluster(1, 2);
        var w = Fixtures.Workload();
        var plan = Fixtures.Plan("tables: {a: {scheme: table_wise, ranks: [1]}, b: {scheme: table_wise, ranks: [0]}, c: {scheme: table_wise, ranks: [0]}, d: {scheme: table_wise, ranks: [0]}}", w, c);
        var work = EmbeddingWork.Compute(c, w, plan);
        // Table a on rank 1: global batch 1024 x pooling 10 rows of 32 fp32 gathered, 1024 x 32 fp32 written.
        Assert.Equal(1024.0 * 10 * 32 * 4 + 1024.0 * 32 * 4, work.ForwardBytes[1], 6);
        // Backward: read grad, read+write rows, read+write one fp32 Adagrad state per looked-up row.
        Assert.Equal(1024.0 * 32 * 4 + 2 * 1024.0 * 10 * 32 * 4 + 2 * 1024.0 * 10 * 4, work.BackwardBytes[1], 6);
        // Rank 1 receives local-batch indices (512 samples x 10 x int64) from every rank.
        Assert.Equal(512.0 * 10 * 8, work.InputDistribution.FromEachPeer[1]);
        Assert.Equal(512.0 * 32, work.PooledElements.ToEachPeer[1]);
    }
}
