using Sim.Topology;

namespace Sim.Tests;

/// <summary>Small topologies with a `fabric:` section, built on <see cref="Fixtures.TopologyYaml"/>.</summary>
public static class FabricFixtures
{
    /// <summary>A fabric section; pass the scale-out body (indented by 4) and optional node/nic lines.</summary>
    public static string Fabric(string scaleOut, string node = "kind: nvswitch", string nic = "placement: per_gpu") => $@"
fabric:
  node:
    {node}
    source: test
  nic:
    {nic}
    source: test
  scale_out:
{scaleOut}
    source: test
";

    public static string FatTree(int pods = 1, int nodesPerLeaf = 1, double oversubscription = 1, double podOversubscription = 1, int spines = 0) =>
        $"    kind: fat_tree\n    pods: {pods}\n    nodes_per_leaf: {nodesPerLeaf}\n    oversubscription: {oversubscription}\n"
        + (pods > 1 ? $"    pod_oversubscription: {podOversubscription}\n" : "")
        + (spines > 0 ? $"    spines_per_pod: {spines}\n" : "");

    public static Cluster Parse(string yaml) => TopologyLoader.Parse(yaml, "fabric-test.yaml");

    /// <summary>Nodes of <paramref name="gpus"/> GPUs on a fat tree.</summary>
    public static Cluster FatTreeCluster(int nodes, int gpus, int pods = 1, int nodesPerLeaf = 1, double oversubscription = 1, double podOversubscription = 1, int spines = 0) =>
        Parse(Fixtures.TopologyYaml(nodes, gpus) + Fabric(FatTree(pods, nodesPerLeaf, oversubscription, podOversubscription, spines)));

    /// <summary>Zion-like nodes: 8 GPUs in a hybrid cube mesh, a NIC per 2 GPUs.</summary>
    public static Cluster CubeMeshCluster(int nodes) =>
        Parse(Fixtures.TopologyYaml(nodes, 8) + Fabric(FatTree(1, 1), node: "kind: hybrid_cube_mesh", nic: "placement: shared\n    gpus_per_nic: 2"));

    public static IEnumerable<string> ShippedTopologies() =>
        Directory.GetFiles(Fixtures.Repo("topologies"), "*.yaml").Order(StringComparer.Ordinal);

    /// <summary>Shipped clusters of two GPUs or more: the ones with a bisection and collectives (h100x1, h200x1 have neither).</summary>
    public static IEnumerable<string> ShippedMultiGpuTopologies() =>
        ShippedTopologies().Where(f => TopologyLoader.Load(f).WorldSize > 1);

    // One spine per pod: a single path between two GPUs, so exact flows see no hash collisions of ECMP (which the
    // coalesced flows, spread evenly by construction, cannot reproduce: up to 30% on 4 spines at this tiny scale).
    public static Cluster Tapered(string name) => name switch
    {
        "fat tree 1:1" => FabricFixtures.FatTreeCluster(8, 4, nodesPerLeaf: 2, spines: 1),
        "fat tree 2:1" => FabricFixtures.FatTreeCluster(8, 4, nodesPerLeaf: 2, oversubscription: 2, spines: 1),
        "fat tree 4:1" => FabricFixtures.FatTreeCluster(8, 4, nodesPerLeaf: 2, oversubscription: 4, spines: 1),
        "two pods 1:1, 3:1 between" => FabricFixtures.FatTreeCluster(8, 4, pods: 2, nodesPerLeaf: 2, podOversubscription: 3, spines: 1),
        "rail-optimised 2:1" => FabricFixtures.Parse(Fixtures.TopologyYaml(8, 4) + FabricFixtures.Fabric(
            "    kind: rail_optimized\n    pods: 1\n    nodes_per_leaf: 2\n    oversubscription: 2\n    spines_per_pod: 1\n")),
        "shared NICs 1:1" => Parse(Fixtures.TopologyYaml(8, 4) + Fabric(FatTree(1, 2, spines: 1), nic: "placement: shared\n    gpus_per_nic: 2")),
        "shared NICs 2:1" => Parse(Fixtures.TopologyYaml(8, 4) + Fabric(FatTree(1, 2, oversubscription: 2, spines: 1), nic: "placement: shared\n    gpus_per_nic: 2")),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>Every table row-wise over all GPUs at a large batch: balanced traffic where bandwidth, not latency, counts.</summary>
    public static (Cluster, Iterations.IterationGraph, Cost.CostParameters) HeavyRowWise(Cluster c)
    {
        var w = Fixtures.Workload(Fixtures.WorkloadYaml.Replace("batch_size: 1024", "batch_size: 131072"));
        var all = "[" + string.Join(", ", Enumerable.Range(0, c.WorldSize)) + "]";
        var plan = Fixtures.Plan($"tables: {{a: {{scheme: row_wise, ranks: {all}}}, b: {{scheme: row_wise, ranks: {all}}}, c: {{scheme: row_wise, ranks: {all}}}, d: {{scheme: row_wise, ranks: {all}}}}}", w, c);
        var p = Cost.CostParameters.Default;
        return (c, Iterations.IterationGraph.Build(c, w, plan, p), p);
    }
}
