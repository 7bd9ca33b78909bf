using System.Text.Json.Nodes;
using Sim.Collectives;
using Sim.Cost;
using Sim.Nccl;
using Sim.Sharding;
using Sim.Topology;
using Sim.Workload;
using Sim.Predictions;

namespace Sim.Tests;

/// <summary>
/// Numbers at the extremes stay finite, positive and monotone: 12-trillion-parameter models, 100,000 tables,
/// 16,384 GPUs, rows near 10^15 and dims at the limit, 1-byte and 1-GiB messages. Sizes are long (bytes, rows)
/// or double (bytes moved, FLOPs, seconds), and the loaders cap what would leave a long's range, so no input a
/// loader accepts can overflow; these tests run the largest inputs the loaders accept.
/// </summary>
public class NumericSafetyTests
{
    private static void AssertSane(Prediction p)
    {
        Assert.True(double.IsFinite(p.IterationSeconds) && p.IterationSeconds > 0, $"iteration {p.IterationSeconds}");
        Assert.True(double.IsFinite(p.SamplesPerSecond) && p.SamplesPerSecond > 0, $"samples/s {p.SamplesPerSecond}");
        Assert.All(p.Phases, ph => Assert.True(double.IsFinite(ph.Seconds) && ph.Seconds >= 0, $"{ph.Name} {ph.Seconds}"));
        Assert.All(p.Ranks, r => Assert.True(double.IsFinite(r.ComputeSeconds + r.CommunicationSeconds) && r.ComputeSeconds >= 0 && r.CommunicationSeconds >= 0));
        Assert.All(p.MemoryBytesPerGpu, m => Assert.True(m > 0));
        Contract(Sim.Report.PredictionJson.Write(p));
    }

    /// <summary>The JSON form too: every number finite and non-negative (the writer throws on NaN or infinity).</summary>
    private static void Contract(string json) => Fuzz.Contract.CheckPrediction(json, "numeric-safety");

    [Fact]
    public void Model_f_with_12_trillion_parameters_predicts_finite_positive_times()
    {
        var s = Scenario.Load(Fixtures.Repo("topologies/zionex-256node.yaml"), Fixtures.Repo("workloads/zionex-model-f.yaml"), null);
        Assert.InRange(s.Workload.EmbeddingParameters, 11.99e12, 12.01e12);
        AssertSane(new Predictor(CostParameters.Default).Predict(s, PredictionMode.Analytical));
    }

    [Fact]
    public void The_generator_spreads_12_trillion_parameters_over_100000_tables_exactly()
    {
        var w = WorkloadGenerator.Generate(new GeneratorOptions(100_000, 12e12, 7) { Dims = [8] });
        Assert.Equal(100_000, w.Tables.Count);
        Assert.InRange(w.EmbeddingParameters, 12e12 - 8, 12e12 + 8); // within a row of the request
        Assert.All(w.Tables, t => Assert.True(t.Rows >= 1 && t.Bytes > 0));
        Assert.Equal(4 * w.EmbeddingParameters, w.EmbeddingBytes);
    }

    /// <summary>16,384 GPUs (ZionEX resized in memory, flat network) with 10,000 generated tables, analytical (the 100,000-table run is `sim scale-bench`).</summary>
    [Fact]
    public void Sixteen_thousand_gpus_predict_finite_positive_times()
    {
        var c = TopologyLoader.Load(Fixtures.Repo("topologies/zionex-16node.yaml")) with { Nodes = 2048, Fabric = null };
        Assert.Equal(16_384, c.WorldSize);
        var w = WorkloadGenerator.Generate(new GeneratorOptions(10_000, 1e11, 3) { Dims = [16], BatchSize = 64L * c.WorldSize });
        var plan = Scenario.MakePlan(c, w, "greedy", "generated");
        MemoryModel.EnsureFits(c, MemoryModel.PerRank(c, w, plan), "greedy");
        AssertSane(new Predictor(CostParameters.Default).Predict(new Scenario(c, w, plan), PredictionMode.Analytical));
    }

    private const string ExtremeTopology = """
        name: extreme
        source: test
        nodes: 1
        gpus_per_node: 2
        gpu: {model: X, peak_flops_per_second: {fp32: 1e15}, hbm_bytes: 1125899906842624, hbm_bytes_per_second: 1e13, source: t}
        intra_node: {bytes_per_second: 1e12, latency_seconds: 1e-6, source: t}
        scale_out: {bytes_per_second: 1e11, latency_seconds: 1e-6, source: t}
        host: {ddr_bytes: 1e15, ddr_bytes_per_second: 1e12, source: t}
        """;

    /// <summary>10^15 rows (the row limit) and dim 65,536 (the dim limit), each table 10^15 bytes (the table limit), on GPUs of 2^50 bytes.</summary>
    private static string ExtremeWorkload(long batch, int wideTables) => $"""
        name: extreme
        source: test
        batch_size: {batch}
        dense_features: 0
        interaction: concat
        top_mlp: [1]
        tables:
          - {"{"}name: long, rows: 1e15, dim: 1, pooling_factor: 1000000, dtype: fp8{"}"}
          - {"{"}name: wide, count: {wideTables}, rows: 15258789062, dim: 65536, pooling_factor: 1000000, dtype: fp8{"}"}
        """;

    [Fact]
    public void Rows_near_ten_to_the_fifteen_and_dims_at_the_limit_predict_in_both_modes()
    {
        var c = TopologyLoader.Parse(ExtremeTopology, "extreme.yaml");
        var w = WorkloadLoader.Parse(ExtremeWorkload(1024, 1), "extreme-workload.yaml");
        Assert.Equal(1_000_000_000_000_000, w.Tables[0].Rows);
        Assert.Equal(1 << 16, w.Tables[1].Dim);
        var s = new Scenario(c, w, Scenario.MakePlan(c, w, "greedy", "extreme-workload.yaml"));
        MemoryModel.EnsureFits(c, MemoryModel.PerRank(c, w, s.Plan), "greedy");
        AssertSane(new Predictor(CostParameters.Default).Predict(s, PredictionMode.Analytical));
        AssertSane(new Predictor(CostParameters.Default).Predict(s, PredictionMode.Event));
    }

    /// <summary>
    /// A batch of 2^40 samples through 64 tables of dim 65,536 moves 2^40 x 2^22 x 4 = 2^64 bytes per all-to-all, past
    /// a long: bytes moved are doubles, memory saturates. It does not fit (a one-line error), and predicting it anyway gives
    /// finite times.
    /// </summary>
    [Fact]
    public void A_batch_of_two_to_the_forty_over_the_widest_tables_stays_finite()
    {
        var c = TopologyLoader.Parse(ExtremeTopology, "extreme.yaml");
        var w = WorkloadLoader.Parse(ExtremeWorkload(1L << 40, 64), "extreme-workload.yaml");
        var yaml = "tables:\n  long: {scheme: table_wise, ranks: [0]}\n" + string.Concat(Enumerable.Range(0, 64).Select(i => $"  wide_{i}: {{scheme: table_wise, ranks: [{i % 2}]}}\n"));
        var plan = PlanLoader.Parse(yaml, "plan.yaml", w, c);
        var memory = MemoryModel.PerRank(c, w, plan);
        Assert.All(memory, m => Assert.True(m.TotalBytes > 0));
        var e = Assert.Throws<Sim.Config.SimInputException>(() => MemoryModel.EnsureFits(c, memory, "plan.yaml"));
        Assert.Contains("over by", e.Message);
        var s = new Scenario(c, w, plan);
        AssertSane(new Predictor(CostParameters.Default).Predict(s, PredictionMode.Analytical));
        AssertSane(new Predictor(CostParameters.Default).Predict(s, PredictionMode.Event));
    }

    public static TheoryData<CollectiveOp> Ops => new() { CollectiveOp.AllToAll, CollectiveOp.AllReduce, CollectiveOp.ReduceScatter, CollectiveOp.AllGather };

    private static readonly Lazy<Cluster> Pod = new(() => TopologyLoader.Load(Fixtures.Repo("topologies/zionex-16node.yaml")));

    /// <summary>1 byte to 1 GiB, doubling: every time finite and positive, and never shorter for a larger message.</summary>
    [Theory]
    [MemberData(nameof(Ops))]
    public void Collective_time_grows_with_the_message_from_one_byte_to_one_gibibyte(CollectiveOp op)
    {
        var model = new GraphCollectiveModel(Pod.Value.BuildGraph());
        double previous = 0;
        for (var bytes = 1.0; bytes <= 1 << 30; bytes *= 2)
        {
            foreach (var precision in new[] { CommPrecision.Fp32, CommPrecision.Fp8RowWise })
            {
                var t = model.Predict(op, bytes, precision: precision).Seconds;
                Assert.True(double.IsFinite(t) && t > 0, $"{op} {bytes} B: {t}");
            }
            var s = model.Predict(op, bytes).Seconds;
            Assert.True(s >= previous, $"{op}: {bytes} B takes {s} s, less than {previous} s for half the bytes");
            previous = s;
        }
    }

    /// <summary>A faster scale-out NIC never makes a collective slower (1 byte, 1 MiB, 1 GiB).</summary>
    [Theory]
    [MemberData(nameof(Ops))]
    public void Collective_time_does_not_grow_with_bandwidth(CollectiveOp op)
    {
        foreach (var bytes in new[] { 1.0, 1 << 20, 1 << 30 })
        {
            double previous = double.PositiveInfinity;
            foreach (var nic in new[] { 1e9, 12.5e9, 25e9, 100e9, 400e9 })
            {
                var t = new GraphCollectiveModel(Pod.Value.WithScaleOutBandwidth(nic).BuildGraph()).Predict(op, bytes).Seconds;
                Assert.True(double.IsFinite(t) && t > 0);
                Assert.True(t <= previous * (1 + 1e-12), $"{op} {bytes} B at {nic} B/s takes {t} s, more than {previous} s at less bandwidth");
                previous = t;
            }
        }
    }

    /// <summary>The same plan on faster NICs: the iteration never gets slower, in either mode.</summary>
    [Fact]
    public void Iteration_time_does_not_grow_with_nic_bandwidth()
    {
        var s = Scenario.Load(Fixtures.Repo("topologies/zionex-16node.yaml"), Fixtures.Repo("workloads/mlperf-dlrm-v1.yaml"), null);
        double analytical = double.PositiveInfinity, events = double.PositiveInfinity;
        foreach (var nic in new[] { 1e9, 12.5e9, 25e9, 100e9, 400e9 })
        {
            var faster = s with { Cluster = s.Cluster.WithScaleOutBandwidth(nic) };
            var a = new Predictor(CostParameters.Default).Predict(faster, PredictionMode.Analytical);
            var e = new Predictor(CostParameters.Default).Predict(faster, PredictionMode.Event);
            AssertSane(a);
            AssertSane(e);
            Assert.True(a.IterationSeconds <= analytical * (1 + 1e-12), $"analytical at {nic} B/s: {a.IterationSeconds} > {analytical}");
            Assert.True(e.IterationSeconds <= events * (1 + 1e-9), $"event at {nic} B/s: {e.IterationSeconds} > {events}");
            (analytical, events) = (a.IterationSeconds, e.IterationSeconds);
        }
    }

    /// <summary>`sim collective --bytes 1,1GiB --json` on 2,048 GPUs: finite, positive, 1 GiB slower than 1 byte.</summary>
    [Fact]
    public void The_cli_prices_one_byte_and_one_gibibyte_on_2048_gpus()
    {
        string[] args = ["collective", Fixtures.Repo("topologies/zionex-256node.yaml"), "--op", "all_reduce", "--bytes", "1,1GiB", "--json"];
        var r = Fuzz.Contract.Run(args);
        Assert.Equal(0, r.ExitCode);
        Fuzz.Contract.CheckCollective(r.Stdout, args);
        var rows = JsonNode.Parse(r.Stdout)!["rows"]!.AsArray();
        Assert.Equal(1, rows[0]!["bytes"]!.GetValue<double>());
        Assert.Equal(1 << 30, rows[1]!["bytes"]!.GetValue<double>());
        Assert.True(rows[1]!["seconds"]!.GetValue<double>() > rows[0]!["seconds"]!.GetValue<double>());
    }
}
