using System.Text.Json.Nodes;
using Sim.Report;

namespace Sim.Tests;

public class PredictCliTests
{
    public static TheoryData<string, string, string?> ShippedExamples => new()
    {
        { "topologies/zionex-16node.yaml", "workloads/dlrm-small.yaml", null },
        { "topologies/zionex-16node.yaml", "workloads/mlperf-dlrm-v1.yaml", "plans/mlperf-dlrm-v1.zionex-16node.yaml" },
        { "topologies/h100x4.yaml", "workloads/dlrm-small.yaml", "plans/dlrm-small.h100x4.yaml" },
        { "topologies/h100x4.yaml", "workloads/mlperf-dlrm-v1.yaml", null },
    };

    [Theory]
    [MemberData(nameof(ShippedExamples))]
    public void Shipped_examples_print_the_documented_keys_with_positive_values(string topology, string workload, string? plan)
    {
        var args = new List<string> { "predict", Fixtures.Repo(topology), Fixtures.Repo(workload) };
        if (plan is not null) args.Add(Fixtures.Repo(plan));
        args.Add("--json");
        var r = CliRunner.Run([.. args]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var o = JsonNode.Parse(r.Stdout)!.AsObject();
        Assert.True(o["iteration_seconds"]!.GetValue<double>() > 0);
        Assert.True(o["samples_per_second"]!.GetValue<double>() > 0);
        var phases = o["phases"]!.AsObject();
        Assert.Equal(Sim.Iterations.Phases.All, phases.Select(kv => kv.Key));
        Assert.True(phases.Sum(kv => kv.Value!.GetValue<double>()) > 0);
        var memory = o["memory_bytes_per_gpu"]!.AsArray();
        Assert.Equal(o["world_size"]!.GetValue<int>(), memory.Count);
        Assert.All(memory, m => Assert.True(m!.GetValue<long>() > 0));
    }

    [Fact]
    public void Json_output_round_trips()
    {
        var r = CliRunner.Run("predict", Fixtures.Repo("topologies/h100x4.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"), Fixtures.Repo("plans/dlrm-small.h100x4.yaml"), "--json");
        var parsed = PredictionJson.Parse(r.Stdout);
        Assert.Equal(r.Stdout.TrimEnd('\n'), PredictionJson.Write(parsed));
    }

    [Fact]
    public void Same_inputs_give_byte_identical_output()
    {
        string[] args = ["predict", Fixtures.Repo("topologies/zionex-16node.yaml"), Fixtures.Repo("workloads/mlperf-dlrm-v1.yaml"), "--json"];
        Assert.Equal(CliRunner.Run(args).Stdout, CliRunner.Run(args).Stdout);
    }

    [Fact]
    public void The_table_names_the_bottleneck_and_the_iteration()
    {
        var r = CliRunner.Run("predict", Fixtures.Repo("topologies/h100x4.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"));
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("iteration", r.Stdout);
        Assert.Contains("bottleneck phase:", r.Stdout);
        Assert.Contains("samples/s:", r.Stdout);
    }

    [Fact]
    public void Help_lists_predict()
    {
        var r = CliRunner.Run("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("predict", r.Stdout);
    }
}
