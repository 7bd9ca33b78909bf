using System.Globalization;
using System.Text.Json.Nodes;

namespace Sim.Tests;

/// <summary>`sim collective`: the simulated nccl-tests table, its JSON form, its plot and its input errors.</summary>
public class CollectiveCliTests
{
    private static List<double[]> Rows(string stdout) => stdout.Split('\n')
        .Where(l => l.Length > 0 && l[0] != '#')
        .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(4).Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray())
        .ToList();

    [Theory]
    [InlineData("topologies/zionex-16node.yaml", "all_reduce")]
    [InlineData("topologies/zionex-16node.yaml", "all_to_all")]
    [InlineData("topologies/dgx-h100-16node.yaml", "all_reduce")]
    [InlineData("topologies/dgx-h100-16node.yaml", "reduce_scatter")]
    [InlineData("topologies/dgx-h100-16node.yaml", "all_gather")]
    public void Prints_a_plausible_nccl_tests_table(string topology, string op)
    {
        var r = CliRunner.Run("collective", Fixtures.Repo(topology), "--op", op, "--bytes", "1KiB..1GiB");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("busbw", r.Stdout);
        var rows = Rows(r.Stdout);
        Assert.Equal(21, rows.Count);
        Assert.Equal(1024, rows[0][0]);
        Assert.Equal(1L << 30, rows[^1][0]);
        for (var i = 1; i < rows.Count; i++)
        {
            Assert.True(rows[i][1] >= rows[i - 1][1], "time grows with size");
            Assert.True(rows[i][3] >= rows[i - 1][3] * 0.99, "busbw grows with size");
        }
        // Small messages take microseconds, not milliseconds; large ones run near the NIC rail speed (8 NICs per node).
        Assert.InRange(rows[0][1], 5, 500);
        var nicGBps = topology.Contains("dgx") ? 50 : 25;
        var busbw = rows[^1][3];
        var perRail = op == "all_to_all" ? 1 : 8;
        Assert.InRange(busbw, 0.3 * nicGBps * perRail, 1.0 * nicGBps * perRail);
    }

    [Fact]
    public void Json_has_one_row_per_size_in_si_units()
    {
        var r = CliRunner.Run("collective", Fixtures.Repo("topologies/h100x4.yaml"), "--op", "all_to_all", "--bytes", "1MiB,256MiB", "--json", "--dtype", "bf16");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var o = JsonNode.Parse(r.Stdout)!.AsObject();
        Assert.Equal("all_to_all", o["op"]!.GetValue<string>());
        Assert.Equal("bf16", o["dtype"]!.GetValue<string>());
        var rows = o["rows"]!.AsArray();
        Assert.Equal(2, rows.Count);
        Assert.Equal(256.0 * (1 << 20), rows[1]!["bytes"]!.GetValue<double>());
        Assert.Equal(128.0 * (1 << 20), rows[1]!["wire_bytes"]!.GetValue<double>());
        Assert.True(rows[1]!["seconds"]!.GetValue<double>() > 0);
        Assert.True(rows[1]!["busbw_bytes_per_second"]!.GetValue<double>() > 1e9);
    }

    [Fact]
    public void Ranks_and_algorithm_select_a_sub_communicator_and_an_algorithm()
    {
        var r = CliRunner.Run("collective", Fixtures.Repo("topologies/zionex-16node.yaml"), "--op", "all_reduce", "--bytes", "64MiB", "--ranks", "16", "--algorithm", "hierarchical");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("16 ranks on 2 nodes", r.Stdout);
        Assert.Contains("hierarchical", r.Stdout);
    }

    [Fact]
    public void Plot_draws_busbw_against_size()
    {
        using var dir = new Fixtures.TempDir();
        var plot = Path.Combine(dir.Path, "busbw.png");
        var r = CliRunner.Run("collective", Fixtures.Repo("topologies/h100x4.yaml"), "--bytes", "1KiB..64MiB", "--plot", plot);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.True(new FileInfo(plot).Length > 1000);
    }

    [Theory]
    [InlineData("--bytes", "12 apples", "--bytes", "not a size")]
    [InlineData("--bytes", "1GiB..1KiB", "--bytes", "ends below")]
    [InlineData("--bytes", "0", "--bytes", "at least 1 byte")]
    [InlineData("--bytes", "1.5", "--bytes", "whole number")]
    [InlineData("--op", "broadcast", "--op", "unknown value 'broadcast'")]
    [InlineData("--dtype", "fp4", "--dtype", "unknown value 'fp4'")]
    [InlineData("--ranks", "1", "--ranks", "must be 2 to 4")]
    [InlineData("--algorithm", "hierarchical", "--algorithm", "needs at least 2 nodes")]
    [InlineData("--plot", "out.jpg", "--plot", ".png or .svg")]
    public void Bad_input_is_one_line_and_exit_2(string option, string value, string field, string problem)
    {
        var r = CliRunner.Run("collective", Fixtures.Repo("topologies/h100x4.yaml"), option, value);
        Assert.Equal(2, r.ExitCode);
        var line = r.Stderr.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("error: ", line);
        Assert.Contains(field, line);
        Assert.Contains(problem, line);
        Assert.Equal("", r.Stdout);
    }
}

/// <summary>`sim collective` (its default, prediction model) prints what an iteration's collective task pays.</summary>
public class CollectiveAsPredictedTests
{
    private static double CliSeconds(string topology, string op, double bytes, string? profile)
    {
        string[] args = ["collective", Fixtures.Repo(topology), "--op", op, "--bytes", ((long)Math.Round(bytes)).ToString(System.Globalization.CultureInfo.InvariantCulture), "--json"];
        var r = CliRunner.Run(profile is null ? args : [.. args, "--profile", Fixtures.Repo(profile)]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return System.Text.Json.JsonDocument.Parse(r.Stdout).RootElement.GetProperty("rows")[0].GetProperty("seconds").GetDouble();
    }

    [Theory]
    [InlineData("validation/profiles/h200x1.json")] // measured curves (all-reduce and all-to-all at 2 GPUs)
    [InlineData(null)]                              // the built-in models: the closed-form link model for collectives
    public void The_collective_command_and_a_predictions_collective_tasks_give_the_same_seconds(string? profile)
    {
        var s = Scenario.Load(Fixtures.Repo("topologies/h200x2.yaml"), Fixtures.Repo("workloads/validation/val-base.yaml"), Fixtures.Repo("validation/plans/val-base.2gpu.rw.yaml"));
        var predictor = Sim.Predictions.Predictor.For(profile is null ? null : Sim.Profiles.CalibrationProfileJson.Read(Fixtures.Repo(profile)));
        var graph = predictor.Graph(s);
        var reduce = graph.Tasks.Single(t => t.Collective?.Kind == Sim.Iterations.CollectiveKind.AllReduce);
        Assert.Equal(reduce.SecondsFor(0) - reduce.Collective!.HostSeconds, CliSeconds("topologies/h200x2.yaml", "all_reduce", reduce.Collective.Bytes, profile), 12);

        // Row-wise everywhere: each rank sends the same partial sums to the other, an even all-to-all.
        var a2a = graph.Tasks.First(t => t.Collective?.Kind == Sim.Iterations.CollectiveKind.AllToAll && t.Phase == Sim.Iterations.Phases.AllToAllForward);
        var d = a2a.Collective!.Demand!;
        Assert.All(d.ToEachPeer, v => Assert.Equal(d.ToEachPeer[0], v));
        Assert.All(d.FromEachPeer, v => Assert.Equal(0, v));
        var perRankBuffer = d.ToEachPeer[0] * d.World; // nccl-tests size: the send buffer, the rank's own share included
        Assert.Equal(a2a.SecondsFor(0) - a2a.Collective.HostSeconds, CliSeconds("topologies/h200x2.yaml", "all_to_all", perRankBuffer, profile), 9);
    }

    [Fact]
    public void Ops_and_options_of_the_routed_model_say_so()
    {
        var rs = CliRunner.Run("collective", Fixtures.Repo("topologies/h200x2.yaml"), "--op", "reduce_scatter", "--bytes", "1MiB", "--model", "prediction");
        Assert.Equal(2, rs.ExitCode);
        Assert.Contains("--model routed", rs.Stderr);
        var routed = CliRunner.Run("collective", Fixtures.Repo("topologies/h200x2.yaml"), "--op", "reduce_scatter", "--bytes", "1MiB");
        Assert.Equal(0, routed.ExitCode);
        Assert.Contains("# model: routed", routed.Stdout);
        var prof = CliRunner.Run("collective", Fixtures.Repo("topologies/h200x2.yaml"), "--model", "routed", "--profile", Fixtures.Repo("validation/profiles/h200x1.json"));
        Assert.Equal(2, prof.ExitCode);
    }
}
