using Sim.Cost;
using Sim.Engine;
using Sim.Report;
using Sim.Hardware;
using Sim.Predictions;
using Sim.Iterations;

namespace Sim.Tests;

public class EngineTests
{
    private static readonly CostParameters P = CostParameters.Default;

    private static Scenario Scenario(int nodes, int gpus, string plan, string? workload = null)
    {
        var c = Fixtures.Cluster(nodes, gpus);
        var w = Fixtures.Workload(workload);
        return new Scenario(c, w, Fixtures.Plan(plan, w, c));
    }

    [Theory]
    [InlineData(1, 2, "tables: {a: {scheme: table_wise, ranks: [0]}, b: {scheme: table_wise, ranks: [1]}, c: {scheme: data_parallel}, d: {scheme: row_wise, ranks: [0, 1]}}")]
    [InlineData(2, 1, "tables: {a: {scheme: column_wise, ranks: [0, 1]}, b: {scheme: table_wise, ranks: [1]}, c: {scheme: table_wise, ranks: [0]}, d: {scheme: data_parallel}}")]
    public void Where_no_two_flows_share_a_link_the_engine_equals_the_analytical_critical_path(int nodes, int gpus, string plan)
    {
        // Two ranks: each direction of each port carries one flow; rings never share a link.
        var s = Scenario(nodes, gpus, plan);
        var analytical = new Predictor(P).Predict(s, PredictionMode.Analytical);
        var (ev, _, runOr) = new Predictor(P).Run(s, PredictionMode.Event);
        var run = runOr!;
        Assert.InRange(ev.IterationSeconds, analytical.IterationSeconds * 0.99, analytical.IterationSeconds * 1.01);
        foreach (var ph in analytical.Phases)
            Assert.Equal(ph.Seconds, ev.Phases.Single(x => x.Name == ph.Name).Seconds, 9);
        Assert.True(run.Stats.Flows > 0);
    }

    [Fact]
    public void All_reduce_rings_match_the_closed_form_on_many_gpus()
    {
        foreach (var (nodes, gpus) in new[] { (1, 8), (4, 8), (4, 1) })
        {
            var s = Scenario(nodes, gpus, "tables: {a: {scheme: data_parallel}, b: {scheme: data_parallel}, c: {scheme: data_parallel}, d: {scheme: data_parallel}}");
            var analytical = new Predictor(P).Predict(s, PredictionMode.Analytical);
            var (ev, _, _) = new Predictor(P).Run(s, PredictionMode.Event);
            Assert.Equal(analytical.Phases.Single(x => x.Name == Phases.AllReduce).Seconds, ev.Phases.Single(x => x.Name == Phases.AllReduce).Seconds, 9);
        }
    }

    [Fact]
    public void Two_flows_on_one_link_take_twice_as_long_as_one()
    {
        double Time(int flows)
        {
            var net = new FlowNetwork([100.0, 1e9, 1e9]);
            for (var i = 0; i < flows; i++)
                net.Add(new Flow { Id = i, Route = [0, i + 1], Bytes = 1000, LatencySeconds = 0, Src = 0, Dst = i + 1, Owner = 0 }, 0);
            net.Recompute();
            return net.SecondsToNextFinish();
        }
        Assert.Equal(10, Time(1), 9);
        Assert.Equal(20, Time(2), 9);
    }

    [Fact]
    public void Max_min_fairness_gives_leftover_bandwidth_to_unconstrained_flows()
    {
        // Flow A crosses links 0 (cap 100) and 1 (cap 30); flow B only link 0. A is held to 30 by link 1, B gets 70.
        var net = new FlowNetwork([100.0, 30.0]);
        var a = new Flow { Id = 0, Route = [0, 1], Bytes = 300, LatencySeconds = 0, Src = 0, Dst = 1, Owner = 0 };
        var b = new Flow { Id = 1, Route = [0], Bytes = 700, LatencySeconds = 0, Src = 0, Dst = 2, Owner = 0 };
        net.Add(a, 0);
        net.Add(b, 0);
        net.Recompute();
        Assert.Equal(30, a.Rate, 9);
        Assert.Equal(70, b.Rate, 9);
    }

    [Fact]
    public void A_sender_with_two_receivers_shares_its_port_in_the_engine()
    {
        // Rank 0 owns table a (the only sharded table): it sends its pooled vectors to ranks 1 and 2 over one NVLink port.
        var s = Scenario(1, 3, "tables: {a: {scheme: table_wise, ranks: [0]}, b: {scheme: data_parallel}, c: {scheme: data_parallel}, d: {scheme: data_parallel}}",
            Fixtures.WorkloadYaml.Replace("batch_size: 1024", "batch_size: 1023"));
        var (ev, _, runOr) = new Predictor(P).Run(s, PredictionMode.Event);
        var run = runOr!;
        var fwd = run.Flows.Count == 0 ? null : run.Flows;
        var g = run.Timeline.Graph;
        var a2a = g.Tasks.Single(t => t.Phase == Phases.AllToAllForward);
        var m = 341.0 * 32 * 4; // local batch 341 samples x dim 32 x fp32 to each peer
        var expected = P.CollectiveOverheadSeconds + 2e-6 + 2 * m / (300e9 * P.IntraNodeCollectiveEfficiency);
        Assert.Equal(expected, run.Timeline.Finish[a2a.Id] - run.Timeline.Start[a2a.Id], 12);
        Assert.Null(fwd);
    }

    [Fact]
    public void Total_bytes_delivered_equal_bytes_injected_and_the_plan_demand()
    {
        var s = Scenario(2, 4, "tables: {a: {scheme: row_wise, ranks: [0, 1, 2, 3, 4, 5, 6, 7]}, b: {scheme: table_wise, ranks: [5]}, c: {scheme: data_parallel}, d: {scheme: column_wise, ranks: [2, 6]}}");
        var (_, _, runOr) = new Predictor(P).Run(s, PredictionMode.Event);
        var run = runOr!;
        Assert.Equal(run.Stats.InjectedBytes, run.Stats.DeliveredBytes, 6);
        var emb = run.Timeline.Graph.Embedding;
        var w = s.Workload;
        var a2a = emb.InputDistribution.NetworkBytes()
            + emb.PooledElements.Scaled(w.Precision.AllToAllForward.Bytes()).NetworkBytes()
            + emb.PooledElements.Transposed(w.Precision.AllToAllBackward.Bytes()).NetworkBytes();
        var arBytes = (w.DenseParameters + emb.DataParallelParameters) * 4.0;
        // Hierarchical all-reduce: 2(G-1) intra steps of S/G and 2(N-1) inter steps of S/(G·N), on all 8 ranks.
        var ar = 8 * (2 * 3 * arBytes / 4 + 2 * 1 * arBytes / 8);
        Assert.Equal(a2a + ar, run.Stats.InjectedBytes, 3);
    }

    [Fact]
    public void Identical_inputs_give_a_byte_identical_trace()
    {
        var s = Scenario(2, 4, "tables: {a: {scheme: row_wise, ranks: [0, 1, 2, 3, 4, 5, 6, 7]}, b: {scheme: table_wise, ranks: [5]}, c: {scheme: data_parallel}, d: {scheme: column_wise, ranks: [2, 6]}}");
        string Trace()
        {
            var (_, _, runOr) = new Predictor(P).Run(s, PredictionMode.Event, recordFlows: true);
            var run = runOr!;
            return ChromeTrace.ToJson(s.Cluster, run.Timeline, run.Flows);
        }
        var a = Trace();
        Assert.Equal(a, Trace());
        var doc = System.Text.Json.JsonDocument.Parse(a);
        Assert.True(doc.RootElement.GetProperty("traceEvents").GetArrayLength() > 50);
    }

    [Fact]
    public void A_rank_with_twice_the_lookup_work_becomes_the_critical_path()
    {
        // Two tables of equal shape but pooling 20 vs 10: the rank holding the heavier one is on the critical path.
        var yaml = Fixtures.WorkloadYaml.Replace("{name: b, rows: 5000, dim: 32, pooling_factor: 2}", "{name: b, rows: 100000, dim: 32, pooling_factor: 20}");
        var s = Scenario(1, 2, "tables: {a: {scheme: table_wise, ranks: [0]}, b: {scheme: table_wise, ranks: [1]}, c: {scheme: data_parallel}, d: {scheme: data_parallel}}", yaml);
        var (ev, _, _) = new Predictor(P).Run(s, PredictionMode.Event);
        var lookup = ev.CriticalPath.Single(x => x.Phase == Phases.EmbeddingLookup);
        Assert.Equal(1, lookup.Rank);
        Assert.True(ev.Ranks[1].ComputeSeconds > ev.Ranks[0].ComputeSeconds);
    }

    [Theory]
    [InlineData("schedule: {all_reduce_buckets: 4}")]
    [InlineData("schedule: {pipeline_embeddings: true}")]
    [InlineData("schedule: {all_reduce_buckets: 4, pipeline_embeddings: true}")]
    public void Overlap_hides_bandwidth_bound_communication(string schedule)
    {
        // Wide MLPs make the all-reduce bandwidth-bound; with tiny ones, per-bucket latency can make buckets a loss.
        var wide = Fixtures.WorkloadYaml.Replace("bottom_mlp: [64, 32]", "bottom_mlp: [2048, 2048, 32]").Replace("top_mlp: [64, 1]", "top_mlp: [2048, 1]");
        const string tables = "tables: {a: {scheme: row_wise, ranks: [0, 1, 2, 3, 4, 5, 6, 7]}, b: {scheme: table_wise, ranks: [5]}, c: {scheme: data_parallel}, d: {scheme: column_wise, ranks: [2, 6]}}";
        var seq = Scenario(2, 4, tables, wide);
        var ovl = Scenario(2, 4, schedule + "\n" + tables, wide);
        foreach (var mode in new[] { "analytical", "event" })
        {
            var a = mode == "event" ? new Predictor(P).Predict(seq, PredictionMode.Event) : new Predictor(P).Predict(seq, PredictionMode.Analytical);
            var b = mode == "event" ? new Predictor(P).Predict(ovl, PredictionMode.Event) : new Predictor(P).Predict(ovl, PredictionMode.Analytical);
            Assert.True(b.IterationSeconds < a.IterationSeconds, $"{mode}: {b.IterationSeconds} !< {a.IterationSeconds}");
            Assert.True(b.HiddenCommunicationSeconds > 0, mode);
            Assert.Equal(b.IterationSeconds, b.Phases.Sum(x => x.Seconds), 12);
        }
    }

    [Fact]
    public void Event_mode_json_round_trips_and_reports_exposed_communication()
    {
        var r = CliRunner.Run("predict", Fixtures.Repo("topologies/zionex-16node.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"), "--mode", "event", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var p = PredictionJson.Parse(r.Stdout);
        Assert.Equal(PredictionMode.Event, p.Mode);
        Assert.True(p.ExposedCommunicationSeconds > 0);
        Assert.Equal(r.Stdout.TrimEnd('\n'), PredictionJson.Write(p));
    }

    [Fact]
    public void Event_mode_says_how_the_network_was_simulated()
    {
        var small = CliRunner.Run("predict", Fixtures.Repo("topologies/zionex-16node.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"), "--mode", "event");
        Assert.True(small.ExitCode == 0, small.Stderr);
        Assert.Matches(@"network flows: +[0-9,]+ \(exact flows\)", small.Stdout);
        var large = CliRunner.Run("predict", Fixtures.Repo("topologies/zionex-256node.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"), "--mode", "event");
        Assert.True(large.ExitCode == 0, large.Stderr);
        Assert.Matches(@"network flows: +[0-9,]+ \(inter-node traffic coalesced into [0-9]+ classes", large.Stdout);
    }
}

public class EngineCoalescingTests
{
    [Fact]
    public void Coalescing_matches_exact_flows_when_traffic_is_balanced()
    {
        // Every table row-wise over all ranks: each GPU sends and receives the same, so rails are balanced.
        var c = Fixtures.Cluster(4, 4);
        var w = Fixtures.Workload();
        var all = "[" + string.Join(", ", Enumerable.Range(0, 16)) + "]";
        var plan = Fixtures.Plan($"tables: {{a: {{scheme: row_wise, ranks: {all}}}, b: {{scheme: row_wise, ranks: {all}}}, c: {{scheme: row_wise, ranks: {all}}}, d: {{scheme: row_wise, ranks: {all}}}}}", w, c);
        var p = Sim.Cost.CostParameters.Default;
        var graph = Sim.Iterations.IterationGraph.Build(c, w, plan, p);
        var exact = Sim.Engine.EventEngine.Run(c, graph, p, coalesceAboveRanks: int.MaxValue);
        var coalesced = Sim.Engine.EventEngine.Run(c, graph, p, coalesceAboveRanks: 0);
        Assert.True(coalesced.Stats.Flows < exact.Stats.Flows);
        Assert.InRange(coalesced.Timeline.End, exact.Timeline.End * 0.99, exact.Timeline.End * 1.01);
        Assert.Equal(coalesced.Stats.InjectedBytes, coalesced.Stats.DeliveredBytes, 6);
    }
}
