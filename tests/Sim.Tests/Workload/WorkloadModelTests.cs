using Sim.Cost;
using Sim.Hardware;
using Sim.Workload;
using Sim.Workload.Ops;

namespace Sim.Tests;

/// <summary>The workload model's new features: DCN-v2, sequences, TSL, access skew, and that plain DLRMs cost exactly what they did.</summary>
public class WorkloadModelTests
{
    private static readonly GpuSpec Gpu = new("g", new Dictionary<DType, double> { [DType.Fp32] = 10e12, [DType.Bf16] = 100e12 }, 1L << 34, 1e12, Provenance.Default);
    private static readonly CostParameters P = new() { GemmEfficiency = 0.5, MemoryEfficiency = 0.5, KernelOverheadSeconds = 1e-6 };

    private static DlrmWorkload Shipped(string name) => WorkloadLoader.Load(Fixtures.Repo($"workloads/{name}.yaml"));

    // The dense cost model before operators existed, kept here as the reference for plain DLRMs.
    private static double OldForward(GpuSpec gpu, CostParameters p, DlrmWorkload w, double b)
    {
        var dt = w.Precision.Compute;
        double t = 0;
        foreach (var l in w.DenseLayers)
            t += ComputeCost.MatmulSeconds(gpu, p, dt, b, l.In, l.Out) + ComputeCost.StreamSeconds(gpu, p, 2.0 * b * l.Out * 4);
        return t + OldInteraction(gpu, p, w, b);
    }

    private static double OldBackward(GpuSpec gpu, CostParameters p, DlrmWorkload w, double b)
    {
        var dt = w.Precision.Compute;
        double t = 0;
        foreach (var l in w.DenseLayers)
            t += ComputeCost.MatmulSeconds(gpu, p, dt, b, l.Out, l.In) + ComputeCost.MatmulSeconds(gpu, p, dt, l.In, b, l.Out)
                 + ComputeCost.StreamSeconds(gpu, p, 3.0 * b * l.Out * 4);
        return t + 2 * OldInteraction(gpu, p, w, b);
    }

    private static double OldInteraction(GpuSpec gpu, CostParameters p, DlrmWorkload w, double b)
    {
        double f = w.InteractionVectors, d = w.InteractionDim;
        return ComputeCost.GemmSeconds(gpu, p, w.Precision.Compute, b * 2 * f * f * d, b * (f * d + f * f) * w.Precision.Compute.Bytes());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("dlrm-small")]
    [InlineData("mlperf-dlrm-v1")]
    [InlineData("dlrm-criteo-kaggle")]
    public void Plain_dlrms_cost_exactly_what_they_did(string? name)
    {
        var w = name is null ? Fixtures.Workload() : Shipped(name);
        Assert.True(w.IsPlainDlrm);
        foreach (var b in new[] { 1.0, 128, 512, 8192 })
        {
            Assert.Equal(OldForward(Gpu, P, w, b), DenseWork.ForwardSeconds(Gpu, P, w, b));
            Assert.Equal(OldBackward(Gpu, P, w, b), DenseWork.BackwardSeconds(Gpu, P, w, b));
            Assert.Equal(OldInteraction(Gpu, P, w, b), DenseWork.InteractionSeconds(Gpu, P, w, b));
        }
        Assert.Equal(w.DenseLayers.Sum(l => l.Parameters), w.DenseParameters);
        Assert.Equal(2.0 * w.InteractionVectors * w.InteractionVectors * w.InteractionDim, w.InteractionFlopsPerSample);
        Assert.Equal(w.DenseLayers.Sum(l => (double)l.Out) + w.InteractionVectors * (double)w.InteractionDim + w.InteractionOutputs,
            w.ActivationElementsPerSample, 6);
    }

    [Fact]
    public void Mlperf_dcnv2_dense_parameters_and_flops_by_hand()
    {
        var w = Shipped("mlperf-dlrm-dcnv2");
        Assert.Equal(Interaction.Dcn, w.Interaction);
        Assert.Equal(3456, w.InteractionWidth);
        Assert.Equal(3456, w.InteractionOutputs);
        Assert.Equal(new DenseLayer(3456, 1024), w.TopLayers[0]);
        // bottom 13-512-256-128: 171,392; 3 cross layers of 2·3456·512 + 3456; top 3456-1024-1024-512-256-1: 5,245,953.
        Assert.Equal(171_392 + 3 * 3_542_400 + 5_245_953, w.DenseParameters);
        var bottom = 2.0 * (13 * 512 + 512 * 256 + 256 * 128);
        var cross = 3 * (4.0 * 3456 * 512 + 2 * 3456);
        var top = 2.0 * (3456 * 1024 + 1024 * 1024 + 1024 * 512 + 512 * 256 + 256);
        Assert.Equal(cross, w.InteractionFlopsPerSample);
        Assert.Equal(bottom + cross + top, w.DenseForwardFlopsPerSample);
        Assert.Equal(3 * w.DenseForwardFlopsPerSample, w.DenseTrainingFlopsPerSample, 0);
        Assert.Equal(214, w.EmbeddingLookupsPerSample);
        Assert.Equal(204_184_588L * 128, w.EmbeddingParameters);
        Assert.False(w.IsPlainDlrm);
    }

    [Fact]
    public void Dcn_cost_is_its_cross_layers_kernel_by_kernel()
    {
        var w = Shipped("mlperf-dlrm-dcnv2");
        double expected = 0;
        foreach (var o in w.DenseOperators.Where(o => o.Stage == DenseStage.Interaction))
            foreach (var k in o.Op.Forward(512, 4)) expected += DenseWork.KernelSeconds(Gpu, P, DType.Fp32, k);
        Assert.Equal(expected, DenseWork.InteractionSeconds(Gpu, P, w, 512), 15);
        // Backward of every cross layer is twice the forward work, so more time than the forward.
        Assert.True(DenseWork.BackwardSeconds(Gpu, P, w, 512) > DenseWork.ForwardSeconds(Gpu, P, w, 512));
    }

    [Fact]
    public void Dcn_allows_mixed_dims_and_concatenates_them()
    {
        var w = Fixtures.Workload(Fixtures.WorkloadYaml
            .Replace("top_mlp: [64, 1]", "interaction: dcn\ndcn: {layers: 2, low_rank: 16}\ntop_mlp: [64, 1]")
            .Replace("{name: c, rows: 800, dim: 32", "{name: c, rows: 800, dim: 8"));
        Assert.Equal(32 + 32 + 32 + 8 + 32, w.InteractionWidth);
        Assert.Equal(2 * (2L * 136 * 16 + 136), w.DenseOperators.Where(o => o.Stage == DenseStage.Interaction).Sum(o => o.Op.Parameters));
        Assert.Equal(new DenseLayer(136, 64), w.TopLayers[0]);
    }

    [Fact]
    public void Tbsm_runs_its_tower_once_per_time_step()
    {
        var w = Shipped("tbsm-taobao");
        Assert.Equal(21, w.TowerRunsPerSample);
        Assert.Equal(4, w.InteractionVectors);
        Assert.Equal(22, w.InteractionOutputs);
        // Tower: 21 x (bottom 2·1·16 + dot 2·4²·16 + top 2·(22·15 + 15·15)); TSL: normalise 3·21·15, psd head 4·15² + 4·20·15,
        // attention MLP 20-15-15-20, output MLP 30-60-1.
        var tower = 21 * (2.0 * 16 + 2 * 16 * 16 + 2 * (22 * 15 + 15 * 15));
        var tsl = 3 * 21 * 15 + (4 * 225 + 4 * 20 * 15) + 2.0 * (20 * 15 + 15 * 15 + 15 * 20) + 2.0 * (30 * 60 + 60);
        Assert.Equal(tower + tsl, w.DenseForwardFlopsPerSample);
        Assert.Equal(32 + 345 + 240 + 225 + 315 + 240 + 320 + 1860 + 61, w.DenseParameters);
        Assert.Equal(63, w.EmbeddingLookupsPerSample);
        // The tower's GEMMs see 21 rows per sample.
        Assert.All(w.DenseOperators.Where(o => o.Stage is DenseStage.Bottom or DenseStage.Top), o => Assert.Equal(21, o.RowsPerSample));
    }

    [Fact]
    public void C_lstm_encodes_the_word_sequence()
    {
        var w = Shipped("c-lstm-sst");
        Assert.Equal(150, w.SequenceEncoderDim);
        Assert.Equal(1, w.InteractionVectors);
        Assert.Equal(new DenseLayer(150, 5), w.TopLayers.Single());
        var ops = w.DenseOperators;
        Assert.Equal(new Conv1dOp(300, 150, 3, 56), ops[0].Op);
        Assert.Equal(new LstmOp(150, 150, 54), ops[1].Op);
        Assert.Equal(135_150 + 181_200 + 755, w.DenseParameters);
        Assert.Equal(Workload.ShardingScheme.DataParallel, w.DefaultScheme);
        Assert.True(DenseWork.ForwardSeconds(Gpu, P, w, 50) > 0);
    }

    [Fact]
    public void Cewe_has_no_dense_parameters_and_scores_negatives()
    {
        var w = Shipped("cewe-wikipedia");
        Assert.Equal(0, w.DenseParameters);
        Assert.Equal(6, w.InteractionOutputs);
        Assert.Equal(10 + 1 + 6, w.EmbeddingLookupsPerSample);
        Assert.Equal(300 + 2.0 * 6 * 300, w.DenseForwardFlopsPerSample);
    }

    [Fact]
    public void Hit_rates_by_hand()
    {
        Assert.Equal(0.2, AccessSkew.Uniform.HitRate(1000, 0.2));
        var hot = AccessSkew.HotSet(0.1, 0.9);
        Assert.Equal(0.45, hot.HitRate(1000, 0.05), 12);
        Assert.Equal(0.9, hot.HitRate(1000, 0.1), 12);
        Assert.Equal(0.95, hot.HitRate(1000, 0.55), 12);
        // Zipf(1) over 10 rows, 3 cached: H(3) / H(10) = (11/6) / (7381/2520).
        Assert.Equal(11.0 / 6 / (7381.0 / 2520), AccessSkew.Zipf(1).HitRate(10, 0.3), 12);
        Assert.Equal(0, AccessSkew.Zipf(1.05).HitRate(1_000_000, 0));
        Assert.Equal(1, AccessSkew.Zipf(1.05).HitRate(1_000_000, 1));
        var t = new EmbeddingTable("t", 40_000_000, 128, 1, DType.Fp32) { Access = AccessSkew.Zipf(1.05) };
        Assert.InRange(t.HitRate(0.2), 0.8, 0.99);
        Assert.True(t.HitRate(0.1) < t.HitRate(0.2));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.99)]
    [InlineData(1.0)]
    [InlineData(1.05)]
    [InlineData(2.0)]
    public void Harmonic_numbers_match_direct_sums(double s)
    {
        foreach (var n in new[] { 1, 9_999, 10_000, 10_001, 123_457, 1_000_000 })
        {
            double direct = 0;
            for (var k = n; k >= 1; k--) direct += Math.Pow(k, -s);
            Assert.Equal(1, AccessSkew.Harmonic(n, s) / direct, 12);
        }
    }

    [Fact]
    public void Harmonic_numbers_reach_a_trillion_rows()
    {
        // H(N) = ln N + γ + 1/(2N) - ...
        const double n = 1e12;
        Assert.Equal(1, AccessSkew.Harmonic(n, 1) / (Math.Log(n) + 0.57721566490153286 + 0.5 / n), 12);
        Assert.True(double.IsFinite(AccessSkew.Zipf(0.8).HitRate(1_000_000_000_000_000, 0.2)));
    }

    [Theory]
    [InlineData("mlperf-dlrm-dcnv2")]
    [InlineData("tbsm-taobao")]
    [InlineData("c-lstm-sst")]
    [InlineData("cewe-wikipedia")]
    [InlineData("zionex-model-f")]
    public void Workloads_write_back_to_an_equal_file(string name)
    {
        var w = Shipped(name);
        var yaml = WorkloadWriter.ToYaml(w);
        var back = WorkloadLoader.Parse(yaml, "back.yaml");
        Assert.Equal(yaml, WorkloadWriter.ToYaml(back));
        Assert.Equal(w.Tables, back.Tables);
        Assert.Equal(w.DenseParameters, back.DenseParameters);
        Assert.Equal(w.DenseForwardFlopsPerSample, back.DenseForwardFlopsPerSample);
    }
}
