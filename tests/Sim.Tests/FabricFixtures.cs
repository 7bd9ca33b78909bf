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
}
