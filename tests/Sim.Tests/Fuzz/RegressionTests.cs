using Sim.Config;
using Sim.Sharding;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Tests.Fuzz;

/// <summary>Bugs the fuzzer found, each pinned where the corpus alone would not say what was wrong.</summary>
public class RegressionTests
{
    /// <summary>YamlDotNet builds documents recursively: 100,000 levels overflowed the stack and killed the process.</summary>
    [Theory]
    [InlineData("[", "]")]
    [InlineData("{a: ", "}")]
    public void Deeply_nested_yaml_is_bad_input_not_a_stack_overflow(string open, string close)
    {
        const int depth = 100_000;
        var text = "name: deep\nsource: fuzz\nnodes: " + string.Concat(Enumerable.Repeat(open, depth)) + "1" + string.Concat(Enumerable.Repeat(close, depth));
        var e = Assert.Throws<SimInputException>(() => TopologyLoader.Parse(text, "deep.yaml"));
        Assert.Contains($"nested more than {YamlDocument.MaxDepth} levels deep", e.Message);
        Assert.Equal(3, e.Line);
    }

    [Fact]
    public void Nesting_up_to_the_limit_still_parses()
    {
        var depth = YamlDocument.MaxDepth - 1; // the top-level mapping is one level
        var text = "x: " + new string('[', depth) + new string(']', depth) + "\n";
        Assert.NotNull(YamlDocument.Parse(text, "ok.yaml"));
    }

    /// <summary>A parser message that quotes input with line breaks must still be one line.</summary>
    [Fact]
    public void An_error_message_is_one_line_whatever_it_quotes()
    {
        var e = new SimInputException("f.json", "", "malformed JSON: 'name: again\n{\"plan\": 1}\r\n' is invalid");
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\r', e.Message);
        var long_ = new SimInputException("f.json", "x", new string('a', 100_000));
        Assert.True(long_.Message.Length < SimInputException.MaxProblemLength + 100);
    }

    /// <summary>offset + size overflowed a long and wrapped negative, so a shard far outside the table was accepted.</summary>
    [Fact]
    public void A_torchrec_shard_offset_near_the_long_limit_is_outside_the_table()
    {
        using var dir = new Fixtures.TempDir();
        var cluster = TopologyLoader.Load(Fixtures.Repo("topologies/h100x4.yaml"));
        var workload = Sim.Workload.WorkloadLoader.Load(Fixtures.Repo("workloads/dlrm-small.yaml"));
        var plan = PlanLoader.Load(Fixtures.Repo("plans/dlrm-small.h100x4.yaml"), workload, cluster);
        var json = TorchRecPlan.Export(plan, cluster);
        var table = plan.Tables.First(t => t.Scheme == ShardingScheme.TableWise);
        var node = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        node["tables"]![table.Table.Name]!["sharding_spec"]!["shards"]![0]!["shard_offsets"]![0] = long.MaxValue - table.Table.Rows / 2;
        var file = dir.Write("plan.json", node.ToJsonString());
        var e = Assert.Throws<SimInputException>(() => TorchRecPlan.Import(file, workload, cluster));
        Assert.Contains("does not lie inside", e.Message);
    }

    [Theory]
    [InlineData("""{"tables": {"item": {"sharding_type": "table_wise", "sharding_type": "row_wise"}}}""", "plan.json:1:53: sharding_type: key appears twice")]
    [InlineData("""{"tables": {"item": {"sharding_type": "table_wise", "compute_kernel": "fused", "sharding_spec": []}}}""", "sharding_spec.shards")]
    [InlineData("""{"tables": {"item": {"sharding_type": "table_wise", "compute_kernel": "fused", "cache_params": [1]}}}""", "cache_params.load_factor")]
    [InlineData("""{"tables": {"item": {"sharding_type": "table_wise", "compute_kernel": "fused", "cache_params": {"load_factor": "x"}}}}""", "cache_params.load_factor")]
    [InlineData("""{"tables": {"item": {"sharding_type": "table_wise", "compute_kernel": "fused", "cache_params": {"load_factor": 2}}}}""", "cache_params.load_factor")]
    public void Torchrec_json_of_the_wrong_shape_is_bad_input(string json, string expected)
    {
        using var dir = new Fixtures.TempDir();
        var file = dir.Write("plan.json", json);
        var r = CliRunner.Run("torchrec", "import", Fixtures.Repo("topologies/h100x4.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"), file);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains(expected, r.Stderr);
    }
}
