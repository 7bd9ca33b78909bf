using Sim.Collectives;
using Sim.Cost;
using Sim.Nccl;
using Sim.Topology;

namespace Sim.Tests;

public class GraphCollectiveTests
{
    private static readonly CostParameters Ideal = new() { IntraNodeCollectiveEfficiency = 1, ScaleOutCollectiveEfficiency = 1, CollectiveOverheadSeconds = 0 };

    /// <summary>n GPUs wired in a bidirectional ring of links of <paramref name="bw"/> bytes/s and <paramref name="latency"/> s: nothing else.</summary>
    private static ClusterGraph BareRing(int n, double bw, double latency)
    {
        var b = new ClusterGraphBuilder(Fixtures.Cluster(1, n));
        var gpus = Enumerable.Range(0, n).Select(r => b.AddGpu(r)).ToArray();
        // Two GPUs share one cable; more form a cycle.
        for (var r = 0; r < (n == 2 ? 1 : n); r++) b.AddDuplex(gpus[r], gpus[(r + 1) % n], bw, latency, TierNames.NvLink);
        return b.Build();
    }

    [Theory]
    [InlineData(2, 1e6)]
    [InlineData(4, 256e6)]
    [InlineData(8, 1e9)]
    public void Ring_all_reduce_on_a_ring_is_the_closed_form(int n, double bytes)
    {
        const double bw = 100e9, alpha = 1.5e-6;
        var model = new GraphCollectiveModel(BareRing(n, bw, alpha), Ideal, CollectiveParameters.Ideal);
        var e = model.Predict(CollectiveOp.AllReduce, bytes, algorithm: CollectiveAlgorithm.Ring);
        var expected = 2.0 * (n - 1) / n * bytes / bw + 2.0 * (n - 1) * alpha;
        Assert.Equal(expected, e.Seconds, 12);
        // ... and its busbw is exactly the link speed once latency is negligible.
        Assert.True(e.BusBytesPerSecond <= bw * (1 + 1e-12));
    }

    [Fact]
    public void Graph_hierarchical_all_reduce_matches_the_closed_form_model_on_a_flat_cluster()
    {
        var c = Fixtures.Cluster(4, 8);
        var p = new CostParameters { CollectiveOverheadSeconds = 7e-6 };
        var model = new GraphCollectiveModel(c.BuildGraph(), p, CollectiveParameters.Ideal);
        foreach (var s in new[] { 1e5, 8e8 })
            Assert.Equal(CollectiveModel.AllReduceSeconds(c, p, s), model.Predict(CollectiveOp.AllReduce, s, algorithm: CollectiveAlgorithm.Hierarchical).Seconds, 12);
    }

    [Fact]
    public void Hierarchical_all_to_all_bytes_per_tier_match_a_hand_count_for_2_nodes_of_4()
    {
        var graph = Fixtures.Cluster(2, 4).BuildGraph();
        var comm = new Communicator(graph, 8);
        var m = new AllToAllMatrix(8);
        for (var s = 0; s < 8; s++)
            for (var d = 0; d < 8; d++)
                m[s, d] = 10;                     // every pair 10 bytes ...
        m[0, 5] = 110;                            // ... but rank 0 sends 110 to rank 5 (node 1, slot 1)
        var a = AnalysedSchedule.Analyse(HierarchicalAllToAll.Build(comm, m, 1), Ideal);
        var t = a.PerRankBytes(1);
        // Phase 1 (NVLink): rank 0 hands each node-mate h its bytes for slot h of both nodes: to rank 1, 10 (for 1) + 110 (for 5).
        // Rank 0: 3 node-mates x 2 slots x 10, plus the extra 100 for rank 5 via rank 1.
        Assert.Equal(60 + 100, t[0].SendIntraNode);
        // Phase 2 (network, same rail): rank 1 sends rank 5 what node 0 has for it: 4 x 10 + 100.
        Assert.Equal(140, t[1].SendScaleOut);
        Assert.Equal(140, t[5].RecvScaleOut);
        // Every other rank sends 4 x 10 to its rail peer; rank 0 sends only its rail share.
        Assert.Equal(40, t[0].SendScaleOut);
        Assert.Equal(40, t[6].SendScaleOut);
        // The network carries exactly the bytes that cross nodes, as a direct all-to-all would.
        var crossing = Enumerable.Range(0, 8).Sum(s => Enumerable.Range(0, 8).Where(d => s / 4 != d / 4).Sum(d => m[s, d]));
        Assert.Equal(crossing, t.Sum(x => x.SendScaleOut));
        Assert.Equal(t.Sum(x => x.Sent), t.Sum(x => x.Received));
        // On links: the NIC tier carries the crossing bytes once each way (NIC to switch and switch to NIC).
        Assert.Equal(2 * crossing, a.BytesPerTier(1)[TierNames.Nic], 9);
    }

    [Fact]
    public void Oversubscription_2_to_1_halves_cross_pod_all_to_all_bandwidth_when_every_gpu_sends()
    {
        // 2 pods x 2 nodes x 2 GPUs; every GPU sends only to the other pod.
        double Seconds(double podOversubscription)
        {
            var c = FabricFixtures.FatTreeCluster(nodes: 4, gpus: 2, pods: 2, nodesPerLeaf: 1, podOversubscription: podOversubscription);
            var m = new AllToAllMatrix(8);
            for (var s = 0; s < 8; s++)
                for (var d = 0; d < 8; d++)
                    if (s / 4 != d / 4) m[s, d] = 64e6;
            var model = new GraphCollectiveModel(c.BuildGraph(), Ideal, CollectiveParameters.Ideal);
            return model.AllToAll(m, CollectiveAlgorithm.Direct).Seconds;
        }
        var full = Seconds(1);
        var tapered = Seconds(2);
        // Latency is a few microseconds against milliseconds of transfer: the bandwidth halves.
        Assert.Equal(2.0, tapered / full, 2);
        // Leaf oversubscription does the same to traffic leaving a leaf.
        var c2 = FabricFixtures.FatTreeCluster(nodes: 4, gpus: 2, pods: 2, nodesPerLeaf: 1, oversubscription: 2);
        var m2 = new AllToAllMatrix(8);
        for (var s = 0; s < 8; s++) for (var d = 0; d < 8; d++) if (s / 4 != d / 4) m2[s, d] = 64e6;
        var leaf = new GraphCollectiveModel(c2.BuildGraph(), Ideal, CollectiveParameters.Ideal).AllToAll(m2, CollectiveAlgorithm.Direct).Seconds;
        Assert.Equal(2.0, leaf / full, 2);
    }

    public static TheoryData<string> Shipped => new(FabricFixtures.ShippedMultiGpuTopologies().Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(Shipped))]
    public void Busbw_of_a_ring_all_reduce_never_exceeds_the_slowest_link_of_its_ring(string file)
    {
        var c = TopologyLoader.Load(Fixtures.Repo($"topologies/{file}"));
        var ranks = Math.Min(c.WorldSize, 32);
        var graph = c.BuildGraph();
        var model = new GraphCollectiveModel(graph, CostParameters.Default, CollectiveParameters.Default);
        var comm = new Communicator(graph, ranks);
        var rings = RingSchedule.Rings(comm);
        var net = new GraphNetwork(graph);
        // The slowest link any ring edge's route crosses; each channel carries 1/rings of the data.
        var slowest = rings.Min(ring => ring.Select((r, i) => net.Route(r, ring[(i + 1) % ring.Length]).Min(l => net.Links[l].BytesPerSecond)).Min());
        foreach (var bytes in new[] { 1e3, 1e6, 1e9, 4e9 })
        {
            var e = model.Predict(CollectiveOp.AllReduce, bytes, ranks, CollectiveAlgorithm.Ring);
            Assert.True(e.BusBytesPerSecond <= rings.Count * slowest, $"{file}: busbw {e.BusBytesPerSecond / 1e9:0.0} GB/s over {rings.Count} x {slowest / 1e9:0.0} GB/s");
            if (rings.Count == 1) Assert.True(e.BusBytesPerSecond <= slowest);
        }
    }

    [Fact]
    public void Small_messages_are_latency_bound_and_large_ones_bandwidth_bound()
    {
        var c = TopologyLoader.Load(Fixtures.Repo("topologies/dgx-h100-16node.yaml"));
        var model = new GraphCollectiveModel(c.BuildGraph());
        foreach (var op in new[] { CollectiveOp.AllReduce, CollectiveOp.AllToAll, CollectiveOp.AllGather })
        {
            var zero = model.Predict(op, 0);          // latency terms only
            var small = model.Predict(op, 1024);
            Assert.True(small.Seconds / zero.Seconds < 1.05, $"{op}: 1 KiB takes {small.Seconds * 1e6:0.0} us, latency alone {zero.Seconds * 1e6:0.0} us");
            var large = model.Predict(op, 1L << 30);
            var latencyShare = model.Predict(op, 0, algorithm: large.Algorithm).Seconds / large.Seconds;
            Assert.True(latencyShare < 0.2, $"{op}: latency is {latencyShare:P0} of a 1 GiB collective");
            // Effective bandwidth rises with size (the protocol curve is monotone).
            Assert.True(large.BusBytesPerSecond > 100 * small.BusBytesPerSecond);
        }
    }

    [Fact]
    public void The_fastest_protocol_changes_from_low_latency_to_full_bandwidth_as_messages_grow()
    {
        var model = new GraphCollectiveModel(TopologyLoader.Load(Fixtures.Repo("topologies/h100x4.yaml")).BuildGraph());
        Assert.Equal("LL", model.Predict(CollectiveOp.AllReduce, 1024).Protocol);
        Assert.Equal("Simple", model.Predict(CollectiveOp.AllReduce, 1L << 30).Protocol);
        double previous = 0;
        for (var s = 1024.0; s <= 1L << 30; s *= 2)
        {
            var t = model.Predict(CollectiveOp.AllReduce, s).Seconds;
            Assert.True(t >= previous, "a bigger message never finishes sooner");
            previous = t;
        }
    }

    [Theory]
    [MemberData(nameof(Shipped))]
    public void Reduced_precision_is_never_slower_for_large_messages(string file)
    {
        var c = TopologyLoader.Load(Fixtures.Repo($"topologies/{file}"));
        var model = new GraphCollectiveModel(c.BuildGraph());
        var ranks = Math.Min(c.WorldSize, 64);
        foreach (var op in new[] { CollectiveOp.AllReduce, CollectiveOp.AllToAll, CollectiveOp.ReduceScatter, CollectiveOp.AllGather })
        {
            var fp32 = model.Predict(op, 1L << 30, ranks);
            foreach (var p in new[] { CommPrecision.Bf16, CommPrecision.Fp16, CommPrecision.Fp8RowWise, CommPrecision.Int8RowWise })
            {
                var reduced = model.Predict(op, 1L << 30, ranks, precision: p);
                Assert.True(reduced.Seconds <= fp32.Seconds, $"{file} {op} {p.Name}: {reduced.Seconds * 1e3:0.000} ms vs fp32 {fp32.Seconds * 1e3:0.000} ms");
                Assert.True(reduced.CodecSeconds > 0);
                Assert.True(reduced.WireBytes < fp32.WireBytes);
            }
        }
    }

    [Fact]
    public void Row_wise_formats_pay_their_scales_on_the_wire()
    {
        Assert.Equal(0.5, CommPrecision.Bf16.WireFactor(128));
        Assert.Equal((128 + 8) / 512.0, CommPrecision.Int8RowWise.WireFactor(128));
        Assert.Equal((16 + 8) / 64.0, CommPrecision.Int8RowWise.WireFactor(16));
        Assert.Equal((128 + 4) / 512.0, CommPrecision.Fp8RowWise.WireFactor(128));
    }

    [Fact]
    public void Busbw_uses_the_nccl_tests_factors()
    {
        Assert.Equal(2.0 * 7 / 8, CollectiveOp.AllReduce.BusBandwidthFactor(8));
        Assert.Equal(7.0 / 8, CollectiveOp.ReduceScatter.BusBandwidthFactor(8));
        Assert.Equal(7.0 / 8, CollectiveOp.AllGather.BusBandwidthFactor(8));
        Assert.Equal(7.0 / 8, CollectiveOp.AllToAll.BusBandwidthFactor(8));
        var e = new GraphCollectiveModel(Fixtures.Cluster(1, 8).BuildGraph()).Predict(CollectiveOp.AllReduce, 1e9);
        Assert.Equal(1e9 / e.Seconds, e.AlgBytesPerSecond, 6);
        Assert.Equal(e.AlgBytesPerSecond * 2 * 7 / 8, e.BusBytesPerSecond, 6);
    }

    [Fact]
    public void Auto_picks_the_fastest_applicable_algorithm()
    {
        var model = new GraphCollectiveModel(TopologyLoader.Load(Fixtures.Repo("topologies/zionex-16node.yaml")).BuildGraph());
        foreach (var op in new[] { CollectiveOp.AllReduce, CollectiveOp.AllToAll })
            foreach (var bytes in new[] { 4096.0, 64e6 })
            {
                var auto = model.Predict(op, bytes);
                foreach (var a in model.Applicable(op, 128))
                    Assert.True(auto.Seconds <= model.Predict(op, bytes, algorithm: a).Seconds);
            }
        Assert.NotNull(model.NotApplicable(CollectiveOp.AllReduce, CollectiveAlgorithm.Hierarchical, 8));   // one node
        Assert.NotNull(model.NotApplicable(CollectiveOp.AllGather, CollectiveAlgorithm.Tree, 128));
    }

    [Fact]
    public void Uneven_all_to_all_from_sharded_demand_is_priced_on_the_graph()
    {
        var c = Fixtures.Cluster(2, 4);
        var d = new AllToAllDemand(8);
        d.ToEachPeer[0] = 1e6;   // rank 0 owns a big table everyone reads
        d.FromEachPeer[5] = 1e5;
        var model = new GraphCollectiveModel(c.BuildGraph(), Ideal, CollectiveParameters.Ideal);
        var e = model.AllToAll(d, CollectiveAlgorithm.Direct);
        // Rank 0's NIC is the bottleneck: 4 remote peers x 1e6 + 1e5 to rank 5, at 25 GB/s.
        Assert.Equal(4.1e6 / 25e9 + 5e-6, e.Seconds, 12);
        Assert.Equal(CollectiveModel.AllToAllSeconds(c, new CostParameters { IntraNodeCollectiveEfficiency = 1, ScaleOutCollectiveEfficiency = 1, CollectiveOverheadSeconds = 0 }, d), e.Seconds, 12);
    }
}
