using Sim.Workload;

namespace Sim.Tests;

public class WorkloadGeneratorTests
{
    private static GeneratorOptions Options(int tables = 100, double total = 1e10, long seed = 42) => new(tables, total, seed);

    [Fact]
    public void Same_seed_same_file_other_seed_other_file()
    {
        var a = WorkloadGenerator.GenerateYaml(Options() with { Dims = [32, 64, 128] });
        var b = WorkloadGenerator.GenerateYaml(Options() with { Dims = [32, 64, 128] });
        var c = WorkloadGenerator.GenerateYaml(Options(seed: 43) with { Dims = [32, 64, 128] });
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Contains("seed 42", WorkloadLoader.Parse(a, "g.yaml").Source);
    }

    [Theory]
    [InlineData(1, 1e6, 1.0)]
    [InlineData(100, 1e10, 1.0)]
    [InlineData(1000, 1e12, 1.2)]
    [InlineData(26, 3.3e9, 0.0)]
    [InlineData(500, 40_000, 1.0)] // barely more than one row of 64 per table
    public void Totals_are_within_one_percent(int tables, double total, double zipf)
    {
        var w = WorkloadLoader.Parse(WorkloadGenerator.GenerateYaml(Options(tables, total) with { ZipfRows = zipf }), "g.yaml");
        Assert.Equal(tables, w.Tables.Count);
        Assert.InRange(w.EmbeddingParameters / total, 0.99, 1.01);
        Assert.All(w.Tables, t => Assert.True(t.Rows >= 1));
    }

    [Fact]
    public void Rows_follow_a_power_law_and_pooling_its_mean()
    {
        var w = WorkloadGenerator.Generate(Options(200, 1e11) with { PoolingMean = 15 });
        var sizes = w.Tables.Select(t => t.Parameters).Order().ToArray();
        var median = sizes[sizes.Length / 2];
        Assert.True(sizes[^1] > 50 * median, $"largest {sizes[^1]} vs median {median}");
        // Share of table i ∝ 1/i: the first table holds twice the second's parameters.
        Assert.InRange(w.Tables[0].Parameters / (double)w.Tables[1].Parameters, 1.99, 2.01);
        Assert.InRange(w.Tables.Average(t => t.PoolingFactor), 15 * 0.98, 15 * 1.02);
        Assert.True(w.Tables.Max(t => t.PoolingFactor) > 3 * w.Tables.Min(t => t.PoolingFactor));
    }

    [Fact]
    public void Ten_trillion_parameters_without_overflow()
    {
        var yaml = WorkloadGenerator.GenerateYaml(Options(1000, 1e13, 7) with { Dims = [32, 64, 128] });
        var w = WorkloadLoader.Parse(yaml, "big.yaml");
        Assert.InRange(w.EmbeddingParameters / 1e13, 0.99, 1.01);
        Assert.InRange(w.EmbeddingBytes / 4e13, 0.99, 1.01);
        Assert.Equal(Interaction.Dcn, w.Interaction);
        Assert.True(w.Tables.Max(t => t.Rows) > 1e10);
        // One table of 10^13: 4e13 bytes, still under the 10^15-byte limit for one table.
        var one = WorkloadGenerator.Generate(Options(1, 1e13));
        Assert.Equal(10_000_000_000_000L / 64, one.Tables[0].Rows);
    }

    [Fact]
    public void One_dim_and_few_tables_use_the_dot_interaction()
    {
        var w = WorkloadGenerator.Generate(Options(10, 1e8) with { Dims = [32] });
        Assert.Equal(Interaction.Dot, w.Interaction);
        Assert.Equal(32, w.BottomMlp[^1]);
        Assert.True(w.IsPlainDlrm);
    }

    [Fact]
    public void Cli_writes_a_file_that_loads_and_predicts()
    {
        using var dir = new Fixtures.TempDir();
        var path = Path.Combine(dir.Path, "gen.yaml");
        var r = CliRunner.Run("workload", "generate", "--tables", "64", "--total-params", "2e9", "--seed", "5", "--dim", "64", "--out", path);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("64 tables", r.Stdout);
        var w = WorkloadLoader.Load(path);
        Assert.InRange(w.EmbeddingParameters / 2e9, 0.99, 1.01);
        var p = CliRunner.Run("predict", Fixtures.Repo("topologies/zionex-16node.yaml"), path, "--json");
        Assert.True(p.ExitCode == 0, p.Stderr);
        var printed = CliRunner.Run("workload", "generate", "--tables", "64", "--total-params", "2e9", "--seed", "5", "--dim", "64");
        Assert.Equal(File.ReadAllText(path), printed.Stdout);
    }

    [Theory]
    [InlineData("--total-params", "cannot fill 100 tables", "--tables", "100", "--total-params", "1000", "--seed", "1")]
    [InlineData("--total-params", "must be from 1 to", "--tables", "10", "--total-params", "1e16", "--seed", "1")]
    [InlineData("--total-params", "required option is missing", "--tables", "10", "--seed", "1")]
    [InlineData("--seed", "required option is missing", "--tables", "10", "--total-params", "1e9")]
    [InlineData("--tables", "expected a whole number", "--tables", "ten", "--total-params", "1e9", "--seed", "1")]
    [InlineData("--tables", "must be from 1", "--tables", "0", "--total-params", "1e9", "--seed", "1")]
    [InlineData("--dims", "not both", "--tables", "10", "--total-params", "1e9", "--seed", "1", "--dim", "8", "--dims", "8,16")]
    [InlineData("--dims", "whole number", "--tables", "10", "--total-params", "1e9", "--seed", "1", "--dims", "8,x")]
    [InlineData("--interaction", "dot needs one dim", "--tables", "10", "--total-params", "1e9", "--seed", "1", "--dims", "8,16", "--interaction", "dot")]
    [InlineData("--pooling-mean", "must be positive", "--tables", "10", "--total-params", "1e9", "--seed", "1", "--pooling-mean", "0")]
    [InlineData("--tables", "byte limit", "--tables", "1", "--total-params", "1e15", "--seed", "1")]
    public void Impossible_requests_exit_2_naming_the_option(string option, string problem, params string[] args)
    {
        var r = CliRunner.Run(["workload", "generate", .. args]);
        Assert.Equal(2, r.ExitCode);
        var line = r.Stderr.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith($"error: {option}: ", line);
        Assert.Contains(problem, line);
        Assert.Equal("", r.Stdout);
    }
}
