namespace Sim.Tests;

/// <summary>Every malformed input ends in exit code 2 and one line that names the file, the position and the field.</summary>
public class BadInputTests
{
    private const string GoodPlan = "tables: {a: {scheme: table_wise, ranks: [0]}, b: {scheme: table_wise, ranks: [1]}, c: {scheme: data_parallel}, d: {scheme: row_wise, ranks: [0, 1, 2, 3]}}";

    private static CliRunner.Result Predict(string? topology = null, string? workload = null, string? plan = null)
    {
        using var dir = new Fixtures.TempDir();
        var t = dir.Write("topo.yaml", topology ?? Fixtures.TopologyYaml(1, 4));
        var w = dir.Write("work.yaml", workload ?? Fixtures.WorkloadYaml);
        var p = dir.Write("plan.yaml", plan ?? GoodPlan);
        return CliRunner.Run("predict", t, w, p);
    }

    private static void AssertBadInput(CliRunner.Result r, string file, string field, string problem)
    {
        Assert.Equal(2, r.ExitCode);
        var line = r.Stderr.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("error: ", line);
        Assert.Contains(file, line);
        Assert.Contains(field, line);
        Assert.Contains(problem, line);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void The_good_files_predict()
    {
        var r = Predict();
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void Unknown_key() =>
        AssertBadInput(Predict(workload: Fixtures.WorkloadYaml + "learning_rate: 0.1\n"), "work.yaml:", "learning_rate", "unknown field");

    [Fact]
    public void Unknown_nested_key_names_the_full_path() =>
        AssertBadInput(Predict(topology: Fixtures.TopologyYaml(1, 4).Replace("latency_seconds: 2e-6", "latency_secs: 2e-6")), "topo.yaml:", "intra_node.latency_secs", "unknown field; did you mean 'latency_seconds'?");

    [Fact]
    public void Missing_key() =>
        AssertBadInput(Predict(topology: Fixtures.TopologyYaml(1, 4).Replace("gpus_per_node: 4\n", "")), "topo.yaml:", "gpus_per_node", "required field is missing");

    [Fact]
    public void Wrong_type() =>
        AssertBadInput(Predict(workload: Fixtures.WorkloadYaml.Replace("batch_size: 1024", "batch_size: lots")), "work.yaml:4:", "batch_size", "expected a whole number");

    [Fact]
    public void Negative_size() =>
        AssertBadInput(Predict(workload: Fixtures.WorkloadYaml.Replace("rows: 5000", "rows: -5000")), "work.yaml:", "tables[1].rows", "must be positive");

    [Fact]
    public void Zero_size() =>
        AssertBadInput(Predict(topology: Fixtures.TopologyYaml(1, 4).Replace("hbm_bytes_per_second: 1.5e12", "hbm_bytes_per_second: 0")), "topo.yaml:", "gpu.hbm_bytes_per_second", "must be positive");

    [Fact]
    public void A_list_where_a_number_belongs() =>
        AssertBadInput(Predict(workload: Fixtures.WorkloadYaml.Replace("dense_features: 13", "dense_features: [13]")), "work.yaml:", "dense_features", "expected a single value");

    [Fact]
    public void Unknown_word() =>
        AssertBadInput(Predict(workload: Fixtures.WorkloadYaml.Replace("optimizer: rowwise_adagrad", "optimizer: lamb")), "work.yaml:", "optimizer", "expected one of: sgd, rowwise_adagrad");

    [Fact]
    public void Plan_names_a_table_that_does_not_exist() =>
        AssertBadInput(Predict(plan: GoodPlan.Replace("c: {scheme", "zz: {scheme")), "plan.yaml:", "tables.zz", "has no table named 'zz'");

    [Fact]
    public void Plan_misses_a_table() =>
        AssertBadInput(Predict(plan: GoodPlan.Replace(", c: {scheme: data_parallel}", "")), "plan.yaml:", "tables", "table 'c'");

    [Fact]
    public void Plan_names_a_gpu_that_does_not_exist() =>
        AssertBadInput(Predict(plan: GoodPlan.Replace("ranks: [1]", "ranks: [9]")), "plan.yaml:1:", "tables.b.ranks[0]", "rank 9 does not exist: the cluster has 4 GPUs");

    [Fact]
    public void Table_wise_with_two_ranks() =>
        AssertBadInput(Predict(plan: GoodPlan.Replace("ranks: [1]", "ranks: [1, 2]")), "plan.yaml:", "tables.b.ranks", "exactly one rank".Replace("exactly one rank", "one rank"));

    [Fact]
    public void Plan_that_overflows_a_gpu_names_it_and_the_bytes_over()
    {
        // 100,000 x 32 x 4 B = 12.8 MB on GPU 0 alone with 12 MB of HBM.
        var r = Predict(topology: Fixtures.TopologyYaml(1, 4, hbmBytes: 12e6));
        AssertBadInput(r, "plan.yaml", "memory", "GPU 0 (node 0, local 0) needs");
        Assert.Matches(@"over by \d+ bytes", r.Stderr);
    }

    [Fact]
    public void Batch_that_does_not_divide_over_the_gpus() =>
        AssertBadInput(Predict(topology: Fixtures.TopologyYaml(1, 3), plan: GoodPlan.Replace("[0, 1, 2, 3]", "[0, 1, 2]")), "work.yaml", "batch_size", "does not divide evenly over the 3 GPUs");

    [Fact]
    public void Malformed_yaml() =>
        AssertBadInput(Predict(workload: "name: [unclosed\nsource: x\n"), "work.yaml:", "", "malformed YAML/JSON");

    [Fact]
    public void Malformed_json() =>
        AssertBadInput(Predict(plan: "{\"tables\": {\"a\": {\"scheme\": \"table_wise\", \"ranks\": [0]}"), "plan.yaml:", "", "malformed YAML/JSON");

    [Fact]
    public void A_top_level_list_is_not_a_config() =>
        AssertBadInput(Predict(topology: "- a\n- b\n"), "topo.yaml:1:1", "", "expected a mapping");

    [Fact]
    public void Duplicate_key() =>
        AssertBadInput(Predict(workload: Fixtures.WorkloadYaml + "batch_size: 2048\n"), "work.yaml:", "batch_size", "key appears twice");

    [Fact]
    public void Table_dim_that_does_not_match_the_dot_interaction() =>
        AssertBadInput(Predict(workload: Fixtures.WorkloadYaml.Replace("{name: c, rows: 800, dim: 32", "{name: c, rows: 800, dim: 16")), "work.yaml:", "tables[2].dim", "dot interaction needs");

    [Fact]
    public void Missing_file()
    {
        var r = CliRunner.Run("predict", "no-such-topology.yaml", "w.yaml");
        AssertBadInput(r, "no-such-topology.yaml", "", "file not found");
    }

    [Fact]
    public void Json_files_are_accepted_too()
    {
        const string json = "{\"name\": \"j\", \"source\": \"s\", \"batch_size\": 1024, \"dense_features\": 13, \"bottom_mlp\": [64, 32], \"top_mlp\": [64, 1], " +
            "\"tables\": [{\"name\": \"a\", \"rows\": 100000, \"dim\": 32, \"pooling_factor\": 10}, {\"name\": \"b\", \"rows\": 5000, \"dim\": 32, \"pooling_factor\": 2}, " +
            "{\"name\": \"c\", \"rows\": 800, \"dim\": 32, \"pooling_factor\": 1}, {\"name\": \"d\", \"rows\": 20000, \"dim\": 32, \"pooling_factor\": 4}]}";
        Assert.Equal(0, Predict(workload: json).ExitCode);
    }
}
