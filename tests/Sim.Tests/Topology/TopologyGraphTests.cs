using System.Diagnostics;
using Sim.Topology;
using Sim.Topology.Fabric;

namespace Sim.Tests;

public class TopologyGraphTests
{
    [Fact]
    public void Without_a_fabric_section_the_network_stays_the_flat_model()
    {
        var c = Fixtures.Cluster(2, 4);
        Assert.Null(c.Fabric);
        Assert.IsType<FlatNetwork>(c.BuildNetwork());
        Assert.IsType<GraphNetwork>(FabricFixtures.FatTreeCluster(2, 4).BuildNetwork());
    }

    [Fact]
    public void The_default_graph_prices_routes_like_the_flat_model()
    {
        var c = Fixtures.Cluster(2, 4);
        var flat = c.BuildNetwork();
        var graph = new GraphNetwork(c.BuildGraph());
        foreach (var (s, d) in new[] { (0, 1), (0, 5), (6, 3) })
        {
            var fr = flat.Route(s, d);
            var gr = graph.Route(s, d);
            Assert.Equal(fr.Sum(l => flat.Links[l].LatencySeconds), gr.Sum(l => graph.Links[l].LatencySeconds), 15);
            Assert.Equal(fr.Min(l => flat.Links[l].BytesPerSecond), gr.Min(l => graph.Links[l].BytesPerSecond));
            Assert.Equal(c.Tier(s, d), gr.Select(l => graph.Links[l].Tier).Max());
        }
    }

    [Fact]
    public void Building_a_2048_gpu_network_takes_well_under_a_second()
    {
        var flat = Fixtures.Cluster(256, 8);
        var sw = Stopwatch.StartNew();
        var net = flat.BuildNetwork();
        Assert.True(sw.Elapsed.TotalSeconds < 0.5, $"flat network of 2048 GPUs took {sw.Elapsed.TotalSeconds:0.000} s");
        Assert.Equal(4 * 2048, net.Links.Count);

        var fabric = TopologyLoader.Load(Fixtures.Repo("topologies/zionex-256node.yaml"));
        sw.Restart();
        var graph = fabric.BuildGraph();
        // Typically about 0.1 s; the bound leaves room for a busy CI machine.
        Assert.True(sw.Elapsed.TotalSeconds < 3, $"cluster graph of 2048 GPUs took {sw.Elapsed.TotalSeconds:0.000} s");
        Assert.Equal(2048, graph.WorldSize);
    }

    [Fact]
    public void Oversubscription_divides_the_leaf_uplinks()
    {
        // 4 nodes x 2 GPUs, 2 nodes (4 NICs, 100 GB/s) per leaf, 2 spines, 2:1: each leaf has 50 GB/s up, 25 per spine.
        var graph = FabricFixtures.FatTreeCluster(nodes: 4, gpus: 2, nodesPerLeaf: 2, oversubscription: 2, spines: 2).BuildGraph();
        var up = graph.Links.Where(l => l.TierName == TierNames.Leaf && graph.Vertices[l.Source].Kind == VertexKind.Leaf).ToList();
        Assert.Equal(2 * 2, up.Count);
        Assert.All(up, l => Assert.Equal(25e9, l.BytesPerSecond, 3));
        var s = TopologySummary.Describe(graph);
        Assert.Equal(50e9 * 2 / 8, s.Tiers.Single(t => t.Tier == TierNames.Leaf).InjectionBytesPerSecondPerGpu, 3);
        // Half the ranks sit under one leaf: the bisection is that leaf's uplinks.
        Assert.Equal(50e9, s.BisectionBytesPerSecond, 3);
    }

    [Fact]
    public void A_shared_nic_serves_several_gpus_and_a_cube_mesh_gives_each_gpu_four_links()
    {
        var graph = FabricFixtures.CubeMeshCluster(2).BuildGraph();
        Assert.Equal(8, graph.CountVertices(VertexKind.Nic));
        for (var r = 0; r < 8; r++)
        {
            var nvlinks = graph.OutLinks(graph.VertexOfRank(r)).Count(l => l.TierName == TierNames.NvLink);
            Assert.Equal(4, nvlinks);
        }
        var s = TopologySummary.Describe(graph);
        Assert.Equal(25e9 / 2, s.Tiers.Single(t => t.Tier == TierNames.Nic).InjectionBytesPerSecondPerGpu, 3);
        Assert.Equal(300e9, s.Tiers.Single(t => t.Tier == TierNames.NvLink).InjectionBytesPerSecondPerGpu, 3);
    }

    [Fact]
    public void Pods_join_through_super_spines_and_the_diameter_counts_them()
    {
        var graph = FabricFixtures.FatTreeCluster(nodes: 4, gpus: 1, pods: 2, nodesPerLeaf: 1).BuildGraph();
        Assert.Equal(2, graph.ScaleOut!.Pods);
        Assert.True(graph.CountVertices(VertexKind.SuperSpine) > 0);
        var s = TopologySummary.Describe(graph);
        // GPU-PCIe-NIC-leaf-spine-super-spine-spine-leaf-NIC-PCIe-GPU
        Assert.Equal(10, s.DiameterHops);
    }

    [Fact]
    public void Changing_the_nic_speed_keeps_the_fabric_and_scales_it()
    {
        var c = FabricFixtures.FatTreeCluster(nodes: 4, gpus: 2, nodesPerLeaf: 2, oversubscription: 2, spines: 2);
        var faster = c.WithScaleOutBandwidth(50e9);
        Assert.Equal(c.Fabric, faster.Fabric);
        var up = faster.BuildGraph().Links.First(l => l.TierName == TierNames.Leaf);
        Assert.Equal(50e9, up.BytesPerSecond, 3);
        Assert.Equal(ScaleOutKind.FatTree, faster.Fabric!.ScaleOut.Kind);
    }
}
