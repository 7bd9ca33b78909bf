using Sim.Topology;
using Sim.Topology.Routing;

namespace Sim.Tests;

public class RoutingTests
{
    public static TheoryData<string> Shapes => new() { "two-pod fat tree", "cube mesh" };

    private static Cluster Shape(string name) => name == "cube mesh"
        ? FabricFixtures.CubeMeshCluster(2)
        : FabricFixtures.FatTreeCluster(nodes: 8, gpus: 2, pods: 2, nodesPerLeaf: 2, oversubscription: 2, podOversubscription: 2);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void A_route_never_uses_a_link_twice_and_is_a_connected_path(string shape)
    {
        var graph = Shape(shape).BuildGraph();
        var router = new EcmpRouter(graph);
        for (var s = 0; s < graph.WorldSize; s++)
            for (var d = 0; d < graph.WorldSize; d++)
            {
                var route = router.Route(s, d);
                if (s == d) { Assert.Empty(route.LinkIds); continue; }
                Assert.Equal(route.LinkIds.Length, route.LinkIds.Distinct().Count());
                var at = graph.VertexOfRank(s);
                var seen = new HashSet<int> { at };
                foreach (var id in route.LinkIds)
                {
                    var l = graph.Links[id];
                    Assert.Equal(at, l.Source);
                    at = l.Target;
                    Assert.True(seen.Add(at), $"route {s}->{d} visits {graph.Vertices[at].Name} twice");
                }
                Assert.Equal(graph.VertexOfRank(d), at);
                Assert.True(route.EqualCostPaths >= 1);
            }
    }

    [Fact]
    public void Ecmp_choice_depends_only_on_the_pair()
    {
        var graph = Shape("two-pod fat tree").BuildGraph();
        var forward = new EcmpRouter(graph, cacheSize: 1);
        var backward = new EcmpRouter(graph, cacheSize: 64);
        var pairs = (from s in Enumerable.Range(0, graph.WorldSize) from d in Enumerable.Range(0, graph.WorldSize) select (s, d)).ToList();
        var a = pairs.Select(p => forward.Route(p.s, p.d).LinkIds).ToList();
        var b = Enumerable.Reverse(pairs).Select(p => backward.Route(p.s, p.d).LinkIds).Reverse().ToList();
        Assert.Equal(a, b);
    }

    [Fact]
    public void Cross_leaf_routes_report_one_equal_cost_path_per_spine_and_spread_over_them()
    {
        // 4 nodes of 1 GPU, one node per leaf, 3 spines: any two GPUs are GPU-PCIe-NIC-leaf-spine-leaf-NIC-PCIe-GPU.
        var graph = FabricFixtures.FatTreeCluster(nodes: 4, gpus: 1, spines: 3).BuildGraph();
        var router = new EcmpRouter(graph);
        var spinesUsed = new HashSet<string>();
        for (var s = 0; s < 4; s++)
            for (var d = 0; d < 4; d++)
            {
                if (s == d) continue;
                var r = router.Route(s, d);
                Assert.Equal(3, r.EqualCostPaths);
                Assert.Equal(8, r.Hops);
                spinesUsed.UnionWith(r.LinkIds.Select(id => graph.Vertices[graph.Links[id].Target]).Where(v => v.Kind == VertexKind.Spine).Select(v => v.Name));
            }
        Assert.Equal(3, spinesUsed.Count);
    }

    [Fact]
    public void Cube_mesh_neighbours_are_one_hop_and_the_rest_two_through_a_relaying_gpu()
    {
        var graph = FabricFixtures.CubeMeshCluster(1).BuildGraph();
        var router = new EcmpRouter(graph);
        for (var d = 1; d < 8; d++)
        {
            var r = router.Route(0, d);
            var neighbour = d is 1 or 2 or 3 or 4;
            Assert.Equal(neighbour ? 1 : 2, r.Hops);
            Assert.All(r.LinkIds, id => Assert.Equal(TierNames.NvLink, graph.Links[id].TierName));
            // 0 -> 5: through 1 (quad) or 4 (cross link): two equal choices.
            if (!neighbour) Assert.Equal(2, r.EqualCostPaths);
        }
    }

    [Fact]
    public void A_gpu_to_gpu_route_never_passes_through_a_cpu()
    {
        var graph = Shape("two-pod fat tree").BuildGraph();
        var router = new EcmpRouter(graph);
        for (var d = 1; d < graph.WorldSize; d++)
            Assert.DoesNotContain(router.Route(0, d).LinkIds, id => graph.Vertices[graph.Links[id].Target].Kind == VertexKind.Cpu);
    }
}
