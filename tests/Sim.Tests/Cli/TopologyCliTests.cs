using System.Globalization;
using System.Text.RegularExpressions;
using Sim.Topology;

namespace Sim.Tests;

/// <summary>`sim topology describe` and `sim topology export-astra` on the shipped files and on bad input.</summary>
public class TopologyCliTests
{
    public static TheoryData<string> Shipped => new(FabricFixtures.ShippedMultiGpuTopologies().Select(Path.GetFileName)!);

    [Theory]
    [InlineData("h100x1.yaml")]
    [InlineData("h200x1.yaml")]
    public void Single_gpu_topologies_load_and_describe(string file)
    {
        var path = Fixtures.Repo($"topologies/{file}");
        Assert.Equal(1, TopologyLoader.Load(path).WorldSize);
        var r = CliRunner.Run("topology", "describe", path);
        Assert.True(r.ExitCode == 0, r.Stderr);
    }

    [Theory]
    [MemberData(nameof(Shipped))]
    public void Every_shipped_topology_loads_and_describe_reports_a_positive_bisection(string file)
    {
        var path = Fixtures.Repo($"topologies/{file}");
        var summary = TopologySummary.Describe(TopologyLoader.Load(path));
        Assert.True(summary.BisectionBytesPerSecond > 0);
        Assert.True(summary.DiameterHops > 0);
        Assert.All(summary.Sources, s => Assert.False(string.IsNullOrWhiteSpace(s.Source)));

        var r = CliRunner.Run("topology", "describe", path);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var m = Regex.Match(r.Stdout, @"bisection:\s+([0-9.]+) GB/s");
        Assert.True(m.Success, r.Stdout);
        Assert.True(double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) > 0);
        Assert.Contains("diameter:", r.Stdout);
        Assert.Contains("injection", r.Stdout);
    }

    [Fact]
    public void Shipped_numbers_carry_sources_and_the_zionex_pod_keeps_its_flat_numbers()
    {
        var c = TopologyLoader.Load(Fixtures.Repo("topologies/zionex-16node.yaml"));
        Assert.Equal(128, c.WorldSize);
        Assert.Equal(300e9, c.IntraNode.BytesPerSecond);
        Assert.Equal(25e9, c.ScaleOut.BytesPerSecond);
        Assert.NotNull(c.Fabric);
        Assert.Equal(2048, TopologyLoader.Load(Fixtures.Repo("topologies/zionex-256node.yaml")).WorldSize);
        var dgx = TopologyLoader.Load(Fixtures.Repo("topologies/dgx-h100-16node.yaml"));
        Assert.Equal(50e9, dgx.ScaleOut.BytesPerSecond);
        Assert.Equal(Topology.Fabric.ScaleOutKind.RailOptimized, dgx.Fabric!.ScaleOut.Kind);
        var h200 = TopologyLoader.Load(Fixtures.Repo("topologies/h200x4.yaml"));
        Assert.Equal(141e9, h200.Gpu.HbmBytes);
        Assert.Equal(4.8e12, h200.Gpu.HbmBytesPerSecond);
        var zion = TopologyLoader.Load(Fixtures.Repo("topologies/zion.yaml"));
        Assert.Equal(Topology.Fabric.NodeKind.HybridCubeMesh, zion.Fabric!.Node.Kind);
        Assert.Equal(8, zion.Fabric.Node.CpuSockets);
        Assert.Contains("unverified", File.ReadAllText(Fixtures.Repo("topologies/zion.yaml")));
    }

    [Theory]
    [InlineData("topologies/dgx-h100-1node.yaml", ".png")]
    [InlineData("topologies/zionex-16node.yaml", ".svg")]
    [InlineData("topologies/zionex-256node.yaml", ".png")]
    public void Describe_draws_the_graph(string topology, string extension)
    {
        using var dir = new Fixtures.TempDir();
        var plot = Path.Combine(dir.Path, "graph" + extension);
        var r = CliRunner.Run("topology", "describe", Fixtures.Repo(topology), "--plot", plot);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(new FileInfo(plot).Length > 1000);
    }

    [Fact]
    public void A_big_cluster_is_drawn_summarised()
    {
        var small = GraphLayout.Of(TopologyLoader.Load(Fixtures.Repo("topologies/dgx-h100-1node.yaml")).BuildGraph());
        Assert.False(small.Summarised);
        Assert.Contains(small.Boxes, b => b.Label == "n0.gpu7");
        var big = GraphLayout.Of(TopologyLoader.Load(Fixtures.Repo("topologies/zionex-256node.yaml")).BuildGraph());
        Assert.True(big.Summarised);
        Assert.True(big.Boxes.Count < 200, $"{big.Boxes.Count} boxes");
    }

    [Fact]
    public void Export_astra_writes_switch_dimensions_for_nodes_of_gpus()
    {
        using var dir = new Fixtures.TempDir();
        var output = Path.Combine(dir.Path, "network.yml");
        var r = CliRunner.Run("topology", "export-astra", Fixtures.Repo("topologies/dgx-h100-16node.yaml"), "--out", output);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var yaml = File.ReadAllText(output);
        Assert.Contains("topology: [ Switch, Switch ]", yaml);
        Assert.Contains("npus_count: [ 8, 16 ]", yaml);
        // 450 GB/s and 50 GB/s in the GiB/s (2^30 B/s) that ASTRA-sim reads: 450e9 / 2^30 and 50e9 / 2^30.
        Assert.Contains("bandwidth: [ 419.095159, 46.566129 ]", yaml);
        Assert.Matches(@"latency: \[ 500\.0, [0-9.]+ \]", yaml);
    }

    [Theory]
    [InlineData(100e9, 93.13225746154785)]  // 100e9 / 1073741824
    [InlineData(1L << 30, 1.0)]
    [InlineData(25e9, 23.283064365386963)]
    public void Astra_bandwidth_is_written_in_GiB_per_second_as_astra_sim_reads_it(double bytesPerSecond, double gib)
    {
        Assert.Equal(gib, AstraSimExport.GiBPerSecond(bytesPerSecond), 9);
        // Decimal GB/s would tell ASTRA-sim the link is 2^30 / 1e9 = 7.37% faster than it is.
        Assert.Equal(1.073741824, bytesPerSecond / 1e9 / AstraSimExport.GiBPerSecond(bytesPerSecond), 12);
    }

    [Theory]
    [InlineData("topologies/zion.yaml", "hybrid cube mesh")]
    public void Export_astra_refuses_shapes_it_cannot_express(string topology, string reason)
    {
        var r = CliRunner.Run("topology", "export-astra", Fixtures.Repo(topology));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("fabric", r.Stderr);
        Assert.Contains(reason, r.Stderr);
        Assert.DoesNotContain('\n', r.Stderr.TrimEnd('\n'));
    }

    [Fact]
    public void Export_astra_refuses_an_oversubscribed_fabric()
    {
        using var dir = new Fixtures.TempDir();
        var t = dir.Write("topo.yaml", Fixtures.TopologyYaml(4, 2) + FabricFixtures.Fabric(FabricFixtures.FatTree(1, 2, oversubscription: 3)));
        var r = CliRunner.Run("topology", "export-astra", t);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("oversubscribed", r.Stderr);
    }
}
