using System.Text.Json.Nodes;

namespace Sim.Tests.Conditions;

/// <summary>`sim predict` under conditions: options, files, output, determinism and bad input (exit 2, one line).</summary>
public class ConditionsCliTests
{
    private static readonly string Topology = Fixtures.Repo("topologies/zionex-16node.yaml");
    private static readonly string Workload = Fixtures.Repo("workloads/mlperf-dlrm-v1.yaml");
    private static readonly string Plan = Fixtures.Repo("plans/mlperf-dlrm-v1.zionex-16node.yaml");

    private static CliRunner.Result Predict(params string[] extra) => CliRunner.Run(["predict", Topology, Workload, Plan, .. extra]);

    private static void AssertBadInput(CliRunner.Result r, string where, string problem)
    {
        Assert.Equal(2, r.ExitCode);
        var line = r.Stderr.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.Contains(where, line);
        Assert.Contains(problem, line);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void Predict_help_lists_the_condition_options()
    {
        var r = CliRunner.Run("predict", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (var o in new[] { "--conditions", "--stragglers", "--jitter", "--background", "--degrade", "--iterations", "--seed" })
            Assert.Contains(o, r.Stdout);
    }

    [Fact]
    public void Predict_prints_the_distribution_and_the_pacing_rank()
    {
        var r = Predict("--mode", "event", "--stragglers", "rank:17=1.8", "--jitter", "lognormal:0.05", "--iterations", "20", "--seed", "7",
            "--background", "scale-out=0.3", "--degrade", Fixtures.Repo("topologies/overlays/zionex-16node-spine-down.yaml"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("distribution:     20 iterations: p50 ", r.Stdout);
        Assert.Contains("p90 ", r.Stdout);
        Assert.Contains("p99 ", r.Stdout);
        Assert.Contains("pacing rank:      GPU 17 (node 2, local 1)", r.Stdout);
        Assert.Contains("seed 7", r.Stdout);
        Assert.Contains("switch p0.spine3 down", r.Stdout);
        Assert.Contains("pacing link:      ", r.Stdout);
    }

    [Fact]
    public void The_shipped_conditions_file_runs_and_slows_the_iteration_in_event_mode()
    {
        var ideal = JsonNode.Parse(Predict("--mode", "event", "--json").Stdout)!;
        var r = Predict("--mode", "event", "--json", "--conditions", Fixtures.Repo("topologies/overlays/zionex-16node-conditions.yaml"), "--iterations", "10");
        Assert.Equal(0, r.ExitCode);
        var c = JsonNode.Parse(r.Stdout)!["conditions"]!;
        Assert.Equal(10, c["iterations"]!.GetValue<int>());
        Assert.Equal(7UL, c["seed"]!.GetValue<ulong>());
        Assert.Equal(3, c["pacing_rank"]!.GetValue<int>());
        Assert.True(c["iteration_seconds_p50"]!.GetValue<double>() > ideal["iteration_seconds"]!.GetValue<double>());
        Assert.Null(ideal["conditions"]);
    }

    [Fact]
    public void Same_inputs_and_seed_give_byte_identical_output()
    {
        string[] args = ["--stragglers", "node:3=1.3", "--jitter", "lognormal:0.1", "--iterations", "50", "--seed", "11", "--json"];
        var a = Predict(args);
        Assert.Equal(0, a.ExitCode);
        Assert.Equal(a.Stdout, Predict(args).Stdout);
        Assert.NotEqual(a.Stdout, Predict([.. args[..^3], "12", "--json"]).Stdout);
    }

    [Fact]
    public void A_straggler_rank_beyond_the_world_size_exits_2() =>
        AssertBadInput(Predict("--stragglers", "rank:128=2"), "--stragglers", "rank 128 is beyond 'zionex-16node', which has 128 GPUs");

    [Fact]
    public void A_background_fraction_of_one_exits_2() =>
        AssertBadInput(Predict("--background", "nic=1"), "--background", "in [0, 1)");

    [Fact]
    public void An_overlay_naming_an_unknown_switch_exits_2_with_file_line_and_field()
    {
        using var dir = new Fixtures.TempDir();
        var f = dir.Write("bad.yaml", "degrade:\n  - switch: p0.spine9\n    down: true\n");
        AssertBadInput(Predict("--degrade", f), "bad.yaml:2:13: degrade[0].switch: ", "no vertex 'p0.spine9'");
    }

    [Fact]
    public void An_overlay_with_speed_zero_or_above_one_exits_2()
    {
        using var dir = new Fixtures.TempDir();
        AssertBadInput(Predict("--degrade", dir.Write("zero.yaml", "degrade:\n  - link: n0.nic0--p0.leaf0\n    speed: 0\n")), "zero.yaml:3:12: degrade[0].speed: ", "must be positive");
        AssertBadInput(Predict("--degrade", dir.Write("fast.yaml", "degrade:\n  - link: n0.nic0--p0.leaf0\n    speed: 2\n")), "fast.yaml:3:12: degrade[0].speed: ", "must be at most 1");
    }

    [Fact]
    public void An_overlay_that_cuts_the_cluster_in_two_exits_2()
    {
        using var dir = new Fixtures.TempDir();
        var spines = string.Concat(Enumerable.Range(0, 4).Select(i => $"  - switch: p0.spine{i}\n    down: true\n"));
        AssertBadInput(Predict("--degrade", dir.Write("cut.yaml", "degrade:\n" + spines)), "cut.yaml:8:13: degrade[3].switch: ", "cuts n4.gpu0 (GPU 32) off from the rest of the cluster");
    }

    [Fact]
    public void Topology_describe_with_an_overlay_shows_the_bisection_left()
    {
        using var dir = new Fixtures.TempDir();
        var f = dir.Write("spine.yaml", "degrade:\n  - switch: p0.spine3\n    down: true\n");
        Assert.Contains("bisection:  1600 GB/s", CliRunner.Run("topology", "describe", Topology).Stdout);
        var r = CliRunner.Run("topology", "describe", Topology, "--degrade", f);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("bisection:  1200 GB/s", r.Stdout); // 3 of the 4 spines of a non-blocking fabric
        Assert.Contains("degraded:   ", r.Stdout);
    }

    [Theory]
    [InlineData("background:\n  scale-out: 1.0\n", "c.yaml:2:14: background.scale-out: ", "in [0, 1)")]
    [InlineData("background:\n  fabric: 0.3\n", "c.yaml:2:3: background.fabric: ", "unknown tier 'fabric'")]
    [InlineData("stragglers:\n  - rank: 200\n    factor: 2\n", "c.yaml:2:11: stragglers[0].rank: ", "rank 200 is beyond")]
    [InlineData("stragglers:\n  - rank: 2\n    factor: 0\n", "c.yaml:3:13: stragglers[0].factor: ", "must be positive")]
    [InlineData("jitter:\n  lognormal_sigma: -1\n", "c.yaml:2:20: jitter.lognormal_sigma: ", "sigma must be positive")]
    [InlineData("iterations: 0\n", "c.yaml:1:13: iterations: ", "must be positive")]
    [InlineData("background:\n  streams:\n    - from_nodes: 0-3\n      to_nodes: 16\n      gbps: 100\n", "c.yaml:3:19: background.streams[0].from_nodes: ", "node 16 is beyond 'zionex-16node'")]
    [InlineData("background:\n  streams:\n    - from_nodes: 0-3\n      to_nodes: 4-7\n      gbps: -1\n", "c.yaml:3:7: background.streams[0]: ", "rate must be above 0")]
    [InlineData("stragglers:\n  - rank: 2\n    factor: 2\n    phase: lookup\n", "c.yaml:4:5: stragglers[0].phase: ", "unknown field")]
    public void A_bad_conditions_file_exits_2_with_file_line_and_field(string yaml, string where, string problem)
    {
        using var dir = new Fixtures.TempDir();
        AssertBadInput(Predict("--conditions", dir.Write("c.yaml", yaml)), where, problem);
    }
}
