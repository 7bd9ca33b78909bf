namespace Sim.Tests;

/// <summary>Malformed `fabric:` sections end in exit code 2 and one line naming the file, position and field.</summary>
public class FabricBadInputTests
{
    private static CliRunner.Result Describe(string fabric, int nodes = 4, int gpus = 8)
    {
        using var dir = new Fixtures.TempDir();
        var t = dir.Write("topo.yaml", Fixtures.TopologyYaml(nodes, gpus) + fabric);
        return CliRunner.Run("topology", "describe", t);
    }

    private static void AssertBadInput(CliRunner.Result r, string field, string problem)
    {
        Assert.Equal(2, r.ExitCode);
        var line = r.Stderr.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("error: topo.yaml:", line);
        Assert.Contains(field, line);
        Assert.Contains(problem, line);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    private static string Good(string? scaleOut = null, string node = "kind: nvswitch", string nic = "placement: per_gpu") =>
        FabricFixtures.Fabric(scaleOut ?? FabricFixtures.FatTree(1, 2), node, nic);

    [Fact]
    public void The_good_fabric_describes() => Assert.Equal(0, Describe(Good()).ExitCode);

    [Fact]
    public void Unknown_key() =>
        AssertBadInput(Describe(Good().Replace("    kind: fat_tree", "    kind: fat_tree\n    radix: 64")), "fabric.scale_out.radix", "unknown field");

    [Fact]
    public void Unknown_node_kind() =>
        AssertBadInput(Describe(Good(node: "kind: torus")), "fabric.node.kind", "unknown value 'torus'");

    [Fact]
    public void Unknown_scale_out_kind() =>
        AssertBadInput(Describe(Good("    kind: dragonfly\n")), "fabric.scale_out.kind", "expected one of: non_blocking, rail_optimized, fat_tree");

    [Fact]
    public void Cube_mesh_needs_eight_gpus() =>
        AssertBadInput(Describe(Good(node: "kind: hybrid_cube_mesh"), gpus: 4), "fabric.node.kind", "exactly 8 GPUs");

    [Fact]
    public void Shared_nic_must_divide_the_gpus() =>
        AssertBadInput(Describe(Good(nic: "placement: shared\n    gpus_per_nic: 3")), "fabric.nic.gpus_per_nic", "does not divide");

    [Fact]
    public void Per_gpu_nics_take_no_count() =>
        AssertBadInput(Describe(Good(nic: "placement: per_gpu\n    gpus_per_nic: 2")), "fabric.nic.gpus_per_nic", "only a shared NIC placement");

    [Fact]
    public void Pods_must_divide_the_nodes() =>
        AssertBadInput(Describe(Good(FabricFixtures.FatTree(pods: 3))), "fabric.scale_out.pods", "do not divide the 4 nodes");

    [Fact]
    public void Oversubscription_below_one_is_rejected() =>
        AssertBadInput(Describe(Good(FabricFixtures.FatTree(1, 2, oversubscription: 0.5))), "fabric.scale_out.oversubscription", "must be at least 1");

    [Fact]
    public void Negative_hop_latency_is_rejected() =>
        AssertBadInput(Describe(Good(FabricFixtures.FatTree(1, 2) + "    hop_latency_seconds: -1e-6\n")), "fabric.scale_out.hop_latency_seconds", "must be at least 0");

    [Fact]
    public void Missing_source() =>
        AssertBadInput(Describe(Good().Replace("  nic:\n    placement: per_gpu\n    source: test", "  nic:\n    placement: per_gpu")), "fabric.nic.source", "required field is missing");

    [Fact]
    public void A_non_blocking_fabric_has_no_leaves() =>
        AssertBadInput(Describe(Good("    kind: non_blocking\n    nodes_per_leaf: 2\n")), "fabric.scale_out.nodes_per_leaf", "non_blocking");

    [Fact]
    public void Leaf_groups_must_divide_a_pod() =>
        AssertBadInput(Describe(Good(FabricFixtures.FatTree(1, 3))), "fabric.scale_out.nodes_per_leaf", "does not divide");

    [Fact]
    public void Bad_pcie_bandwidth() =>
        AssertBadInput(Describe(Good(node: "kind: nvswitch\n    pcie: {bytes_per_second: 0, latency_seconds: 0, source: x}")), "fabric.node.pcie.bytes_per_second", "must be positive");
}
