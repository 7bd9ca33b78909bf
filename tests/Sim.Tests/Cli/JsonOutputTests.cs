using System.Text.Json;

namespace Sim.Tests;

/// <summary>Every result command has --json: one JSON document on stdout, the same numbers as the text, byte-identical on reruns.</summary>
public class JsonOutputTests
{
    private static JsonElement Json(params string[] args)
    {
        var r = CliRunner.Run(args);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        var again = CliRunner.Run(args);
        Assert.Equal(r.Stdout, again.Stdout);
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    [Fact]
    public void Plan_json_has_every_gpu_and_the_prediction()
    {
        var j = Json("plan", Fixtures.Repo("topologies/h200x2.yaml"), Fixtures.Repo("workloads/validation/val-base.yaml"), "--json");
        var gpus = j.GetProperty("gpus").EnumerateArray().ToList();
        Assert.Equal(2, gpus.Count);
        // Every table of the workload is on some GPU (table-wise greedy plan: shards = tables).
        Assert.Equal(8, gpus.Sum(g => g.GetProperty("shards").GetInt64()));
        var lookups = gpus.Select(g => g.GetProperty("lookup_seconds").GetDouble()).ToList();
        Assert.Equal(lookups.Max() / lookups.Average(), j.GetProperty("imbalance").GetDouble(), 9);
        Assert.Equal(2, j.GetProperty("prediction").GetProperty("world_size").GetInt32());
    }

    [Fact]
    public void Capacity_json_lists_the_trials_and_the_chosen_size()
    {
        var r = CliRunner.Run("capacity", Fixtures.Repo("topologies/zionex-16node.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"),
            "--target-samples-per-second", "1000", "--max-nodes", "4", "--json");
        Assert.Equal(0, r.ExitCode);
        var j = JsonDocument.Parse(r.Stdout).RootElement;
        var first = j.GetProperty("trials")[0];
        Assert.True(first.GetProperty("meets_target").GetBoolean());
        Assert.Equal(first.GetProperty("nodes").GetInt32(), j.GetProperty("chosen_nodes").GetInt32());
        Assert.Equal(first.GetProperty("iteration_seconds").GetDouble(), j.GetProperty("prediction").GetProperty("iteration_seconds").GetDouble());
        var unmet = CliRunner.Run("capacity", Fixtures.Repo("topologies/zionex-16node.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"),
            "--target-samples-per-second", "1e15", "--max-nodes", "2", "--json");
        Assert.Equal(1, unmet.ExitCode);
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(unmet.Stdout).RootElement.GetProperty("chosen_nodes").ValueKind);
    }

    [Fact]
    public void Describe_json_of_a_topology_and_a_workload()
    {
        var t = Json("topology", "describe", Fixtures.Repo("topologies/zionex-16node.yaml"), "--json");
        Assert.Equal(128, t.GetProperty("gpus").GetInt32());
        Assert.Equal(16, t.GetProperty("nodes").GetInt32());
        Assert.True(t.GetProperty("bisection_bytes_per_second").GetDouble() > 0);
        var w = Json("workload", "describe", Fixtures.Repo("workloads/validation/val-base.yaml"), "--json");
        Assert.Equal(8, w.GetProperty("tables").GetInt32());
        Assert.Equal(w.GetProperty("embedding_parameters").GetInt64() + w.GetProperty("dense_parameters").GetInt64(), w.GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void Benchmarks_report_json_too()
    {
        var b = CliRunner.Run("bench", Fixtures.Repo("topologies/h200x2.yaml"), Fixtures.Repo("workloads/validation/val-base.yaml"), "--repeat", "1", "--json");
        Assert.Equal(0, b.ExitCode);
        var j = JsonDocument.Parse(b.Stdout).RootElement;
        Assert.True(j.GetProperty("event_iteration_seconds").GetDouble() > 0);
        var s = CliRunner.Run("scale-bench", "--topology", Fixtures.Repo("topologies/zionex-16node.yaml"), "--nodes", "2", "--tables", "200", "--total-params", "1e8", "--json");
        Assert.True(s.ExitCode == 0, s.Stderr);
        var k = JsonDocument.Parse(s.Stdout).RootElement;
        Assert.Equal(16, k.GetProperty("gpus").GetInt32());
        Assert.Equal(k.GetProperty("stages").EnumerateArray().Sum(x => x.GetProperty("seconds").GetDouble()), k.GetProperty("total_seconds").GetDouble(), 1);
    }

    [Fact]
    public void Sweep_and_merge_report_json()
    {
        using var d = new SweepTests.SweepDir();
        var r = CliRunner.Run("sweep", d.Sweep, "--out", d.Path("a.duckdb"), "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var j = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(32, j.GetProperty("configurations").GetInt64());
        Assert.Equal(j.GetProperty("ok").GetInt64() + j.GetProperty("infeasible").GetInt64() + j.GetProperty("errors").GetInt64(), j.GetProperty("computed").GetInt64());
        var m = CliRunner.Run("sweep", "merge", d.Path("m.duckdb"), d.Path("a.duckdb"), "--json");
        Assert.Equal(0, m.ExitCode);
        var k = JsonDocument.Parse(m.Stdout).RootElement;
        Assert.Equal(32, k.GetProperty("rows_added").GetInt64());
        Assert.Equal(0, k.GetProperty("conflicts").GetInt64());
    }
}
