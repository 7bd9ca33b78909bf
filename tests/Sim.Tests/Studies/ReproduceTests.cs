using System.Text.Json.Nodes;
using Sim.Sharding;
using Sim.Studies;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Tests;

/// <summary>`sim reproduce zionex`: the paper's checkable claims predicted from specs alone.</summary>
public class ReproduceTests
{
    private static CliRunner.Result Reproduce(params string[] extra) =>
        CliRunner.Run(["reproduce", "zionex", "--root", Fixtures.RepoRoot, .. extra]);

    [Fact]
    public void Reproduce_zionex_prints_at_least_five_comparison_rows_and_the_error_summary()
    {
        var r = Reproduce();
        Assert.True(r.ExitCode == 0, r.Stderr);
        var rows = r.Stdout.Split('\n').Count(l => l.Contains("paper", StringComparison.OrdinalIgnoreCase) || l.Contains('%'));
        Assert.True(rows >= 5, r.Stdout);
        Assert.Contains("median", r.Stdout);
        Assert.Contains("worst", r.Stdout);
        Assert.Contains("cannot check", r.Stdout);
        Assert.Contains("40x", r.Stdout); // the time-to-solution claim is listed as uncheckable
    }

    [Fact]
    public void Model_f_plans_and_fits_on_the_16_node_pod()
    {
        var cluster = TopologyLoader.Load(Fixtures.Repo("topologies/zionex-16node.yaml"));
        var w = WorkloadLoader.Load(Fixtures.Repo("workloads/zionex-model-f.yaml"));
        Assert.True(w.EmbeddingParameters >= 11.9e12);
        foreach (var planner in new[] { "greedy", "hierarchical" })
        {
            var plan = Scenario.MakePlan(cluster, w, planner, "zionex-model-f.yaml");
            MemoryModel.EnsureFits(cluster, MemoryModel.PerRank(cluster, w, plan), planner); // throws when it does not fit
            Assert.Contains(plan.Tables, t => t.Tier != MemoryTier.Hbm); // 12 T parameters need the host tiers
        }
        var result = Reproduction.Run(Fixtures.RepoRoot, "zionex");
        Assert.All(result.Rows.Where(x => x.Holds is not null), x => Assert.True(x.Holds, x.SimText));
    }

    [Fact]
    public void Unknown_study_is_one_line_and_exit_2()
    {
        var r = CliRunner.Run("reproduce", "nosuchpaper");
        Assert.Equal(2, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Contains("unknown study 'nosuchpaper'", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void Json_parses_and_has_numeric_rows_with_errors()
    {
        var r = Reproduce("--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var o = JsonNode.Parse(r.Stdout)!.AsObject();
        Assert.Equal("zionex", o["study"]!.GetValue<string>());
        var rows = o["rows"]!.AsArray();
        Assert.True(rows.Count >= 5);
        Assert.Contains(rows, x => x!["relative_error"] is not null && x["paper_value"] is not null);
        Assert.All(rows, x => Assert.True(x!["relative_error"] is not null || x["not_numeric"] is not null));
        Assert.True(o["summary_all_numeric"]!["worst_abs_relative_error"]!.GetValue<double>() >= o["summary_all_numeric"]!["median_abs_relative_error"]!.GetValue<double>());
    }

    [Fact]
    public void Output_is_deterministic_and_plots_are_written()
    {
        var dir = Path.Combine(Path.GetTempPath(), "sim-reproduce-" + Guid.NewGuid().ToString("N"));
        try
        {
            var a = Reproduce("--plot", dir);
            Assert.True(a.ExitCode == 0, a.Stderr);
            Assert.Equal(a.Stdout.Replace(dir, ""), Reproduce("--plot", dir).Stdout.Replace(dir, ""));
            foreach (var name in new[] { "zionex-paper-vs-sim.png", "zionex-scaling.png", "zionex-breakdown.png" })
                Assert.True(new FileInfo(Path.Combine(dir, name)).Length > 1000, name);
        }
        finally { if (Directory.Exists(dir)) Directory.Delete(dir, true); }
    }
}
