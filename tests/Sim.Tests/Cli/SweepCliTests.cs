using System.Text.RegularExpressions;
using Sim.Sweep;

namespace Sim.Tests;

/// <summary>Bad sweep files, capacity search and the HTML report, through the `sim` command.</summary>
public class SweepCliTests
{
    private static CliRunner.Result Sweep(string sweepYaml)
    {
        using var d = new SweepTests.SweepDir(sweepYaml);
        return CliRunner.Run("sweep", d.Sweep, "--out", d.Path("r.duckdb"));
    }

    private static void AssertBadSweep(CliRunner.Result r, int line, string field, string problem)
    {
        Assert.Equal(2, r.ExitCode);
        var text = r.Stderr.TrimEnd('\n');
        Assert.DoesNotContain('\n', text);
        Assert.Matches(new Regex($@"^error: [^ ]*sweep\.yaml:{line}:\d+: {Regex.Escape(field)}: "), text);
        Assert.Contains(problem, text);
        Assert.Equal("", r.Stdout);
    }

    private const string Head = "name: s\nbase:\n  topology: topo.yaml\n  workload: work.yaml\naxes:\n";

    [Fact]
    public void Unknown_axis() => AssertBadSweep(Sweep(Head + "  nodes: [1, 2]\n  nodez: [1]\n"), 7, "axes.nodez", "unknown axis; expected one of: nodes");

    [Fact]
    public void Empty_values() => AssertBadSweep(Sweep(Head + "  nic_gbps: []\n"), 6, "axes.nic_gbps", "must not be empty");

    [Fact]
    public void Wrong_type_in_a_list() => AssertBadSweep(Sweep(Head + "  nodes: [1, two]\n"), 6, "axes.nodes[1]", "expected a whole number, found 'two'");

    [Fact]
    public void Not_a_list() => AssertBadSweep(Sweep(Head + "  nodes: 4\n"), 6, "axes.nodes", "expected a list of values");

    [Fact]
    public void Unknown_word() => AssertBadSweep(Sweep(Head + "  comm_precision: [fp32, fp12]\n"), 6, "axes.comm_precision[1]", "unknown value 'fp12'");

    [Fact]
    public void Zero_bandwidth() => AssertBadSweep(Sweep(Head + "  nic_gbps: [0]\n"), 6, "axes.nic_gbps[0]", "must be positive");

    [Fact]
    public void Duplicate_value() => AssertBadSweep(Sweep(Head + "  nodes: [1, 2, 1]\n"), 6, "axes.nodes[2]", "appears twice");

    [Fact]
    public void Conflicting_axes() => AssertBadSweep(Sweep(Head + "  comm_precision: [fp16]\n  all_reduce_precision: [fp32]\n"), 7, "axes.all_reduce_precision", "conflicts with axis 'comm_precision'");

    [Fact]
    public void Missing_input_file() =>
        AssertBadSweep(Sweep("name: s\nbase:\n  topology: nowhere.yaml\n  workload: work.yaml\naxes: {}\n"), 3, "base.topology", "file not found: 'nowhere.yaml'");

    [Fact]
    public void Unknown_base_field() =>
        AssertBadSweep(Sweep("name: s\nbase:\n  topology: topo.yaml\n  workload: work.yaml\n  nodes: 4\naxes: {}\n"), 5, "base.nodes", "unknown field");

    // ---- capacity --------------------------------------------------------------------------------

    [Fact]
    public void Capacity_returns_the_smallest_size_that_meets_the_target()
    {
        var family = Fixtures.Cluster(2, 4);
        var workload = Fixtures.Workload();
        // Weak scaling (a fixed batch per GPU) makes throughput grow with size: check that, then pick targets between sizes.
        var sizes = new[] { 1, 2, 4, 8, 16 };
        var brute = sizes.Select(n =>
        {
            var ev = new SweepEvaluator(new SweepInputs(family, workload, "work.yaml", "", ""));
            var p = ev.Inputs.BasePoint("greedy", false, Sim.Predictions.PredictionMode.Analytical) with { Nodes = n, BatchSize = 64L * n * 4 };
            return ev.Evaluate(p).SamplesPerSecond!.Value;
        }).ToArray();
        for (var i = 1; i < brute.Length; i++) Assert.True(brute[i] > brute[i - 1], $"throughput must grow with size: {string.Join(", ", brute)}");

        for (var k = 0; k < sizes.Length; k++)
        {
            var target = k == 0 ? brute[0] * 0.5 : (brute[k - 1] + brute[k]) / 2;
            var result = CapacitySearch.Run(family, workload, "work.yaml", new CapacityQuery(target, 64, BatchPerGpu: 64));
            Assert.NotNull(result.Chosen);
            Assert.Equal(sizes[k], result.Chosen!.Nodes);
            Assert.True(result.Chosen.Row.SamplesPerSecond >= target);
            Assert.All(result.Trials.SkipLast(1), t => Assert.False(t.Meets));
            Assert.Equal(k + 1, result.Trials.Count);
        }
    }

    [Fact]
    public void Capacity_cli_prints_the_table_and_the_chosen_plan()
    {
        using var d = new SweepTests.SweepDir();
        var r = CliRunner.Run("capacity", d.Path("topo.yaml"), d.Path("work.yaml"), "--target-samples-per-second", "1", "--max-nodes", "8");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("meets the target", r.Stdout);
        Assert.Contains("chosen: 1 nodes x 4 GPUs = 4 GPUs", r.Stdout);
        Assert.Contains("plan (greedy): 4 tables", r.Stdout);

        var t = CliRunner.Run("capacity", d.Path("topo.yaml"), d.Path("work.yaml"), "--train-samples", "1e9", "--within-hours", "1", "--max-nodes", "4");
        Assert.Contains("1,000,000,000 samples within 1 h = 277,778 samples/s", t.Stdout);
    }

    [Fact]
    public void Capacity_says_clearly_when_no_size_meets_the_target()
    {
        using var d = new SweepTests.SweepDir();
        var r = CliRunner.Run("capacity", d.Path("topo.yaml"), d.Path("work.yaml"), "--target-samples-per-second", "1e15", "--max-nodes", "8");
        Assert.Equal(Sim.Cli.CapacityCommand.NotMet, r.ExitCode);
        Assert.Contains("no size up to 8 nodes (32 GPUs) meets 1,000,000,000,000,000 samples/s", r.Stdout);
        var missing = CliRunner.Run("capacity", d.Path("topo.yaml"), d.Path("work.yaml"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--target-samples-per-second", missing.Stderr);
    }

    // ---- report ----------------------------------------------------------------------------------

    [Fact]
    public void The_html_report_is_self_contained_and_has_the_charts()
    {
        using var d = new SweepTests.SweepDir();
        Assert.Equal(0, CliRunner.Run("sweep", d.Sweep, "--out", d.Path("r.duckdb")).ExitCode);
        var r = CliRunner.Run("report", d.Path("r.duckdb"), "--out", d.Path("report.html"), "--plots", d.Path("plots"));
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("", r.Stderr);
        var html = File.ReadAllText(d.Path("report.html"));
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("Throughput vs GPUs", html);
        Assert.Contains("Scaling efficiency vs GPUs", html);
        Assert.Contains("Iteration breakdown", html);
        Assert.Contains("Samples/s by GPUs and NIC Gb/s", html);
        Assert.True(Regex.Matches(html, "<svg").Count >= 5, "five charts inline");
        Assert.Contains("does not divide", html); // the infeasible size is explained
        // Self-contained: no scripts, no external references of any kind.
        Assert.DoesNotContain("http:", html);
        Assert.DoesNotContain("https:", html);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html);
        Assert.DoesNotMatch(new Regex("(src|href)=\"(?!data:|#)"), html);
        foreach (var chart in new[] { "scaling-throughput", "scaling-efficiency", "breakdown", "breakdown-share", "heatmap" })
        {
            Assert.True(new FileInfo(Path.Combine(d.Path("plots"), chart + ".png")).Length > 1000, chart + ".png");
            Assert.Contains("<svg", File.ReadAllText(Path.Combine(d.Path("plots"), chart + ".svg")));
        }
    }

    [Fact]
    public void The_report_of_a_sweep_without_sizes_still_reads()
    {
        using var d = new SweepTests.SweepDir("name: s\nbase: {topology: topo.yaml, workload: work.yaml}\naxes:\n  nic_gbps: [50, 100, 200]\n  overlap: [off, on]\n");
        Assert.Equal(0, CliRunner.Run("sweep", d.Sweep, "--out", d.Path("r.duckdb")).ExitCode);
        var r = CliRunner.Run("report", d.Path("r.duckdb"), "--out", d.Path("report.html"));
        Assert.Equal(0, r.ExitCode);
        var html = File.ReadAllText(d.Path("report.html"));
        Assert.Contains("does not vary in these results", html);
        Assert.Contains("Iteration breakdown", html);
        Assert.Contains("Samples/s by NIC Gb/s and overlap", html);
    }
}

/// <summary>Long sweeps tell the user before they start, and ask before a very large one.</summary>
public class SweepSizeTests
{
    [Fact]
    public void A_sweep_larger_than_the_bound_needs_yes_and_every_sweep_announces_its_size()
    {
        using var d = new SweepTests.SweepDir();
        var refused = CliRunner.Run("sweep", d.Sweep, "--out", d.Path("r.duckdb"), "--max-configurations", "10");
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("32 configurations are more than --max-configurations 10; add --yes", refused.Stderr);
        Assert.False(File.Exists(d.Path("r.duckdb")));
        var yes = CliRunner.Run("sweep", d.Sweep, "--out", d.Path("r.duckdb"), "--max-configurations", "10", "--yes");
        Assert.Equal(0, yes.ExitCode);
        Assert.StartsWith("sweep ", yes.Stderr);
        Assert.Contains("32 configurations on", yes.Stderr);
        Assert.Contains("in all, roughly", yes.Stderr);
        Assert.Contains($"next: sim report {d.Path("r.duckdb")} --out {d.Path("r.html")}", yes.Stdout);
    }

    [Theory]
    [InlineData(0.4, "under 1 s")]
    [InlineData(42.2, "43 s")]
    [InlineData(600, "10 min")]
    [InlineData(7200, "2.0 h")]
    public void Durations_read_as_a_person_would_say_them(double seconds, string text) => Assert.Equal(text, Sim.Cli.SweepEta.Duration(seconds));

    [Fact]
    public void The_time_left_waits_for_something_to_average()
    {
        var eta = new Sim.Cli.SweepEta(1000);
        Assert.Null(eta.SecondsLeft(0));
        Assert.Null(eta.SecondsLeft(5)); // under 2% and under 5 s
        Assert.NotNull(eta.SecondsLeft(100));
        Assert.Equal(0, eta.SecondsLeft(1000));
    }
}

/// <summary>A failed sweep or merge leaves no new database behind.</summary>
public class SweepFailureTests
{
    [Fact]
    public void A_failed_merge_removes_the_database_it_created_and_keeps_one_that_existed()
    {
        using var d = new SweepTests.SweepDir();
        var missing = CliRunner.Run("sweep", "merge", d.Path("m.duckdb"), d.Path("nope.duckdb"));
        Assert.Equal(2, missing.ExitCode);
        Assert.False(File.Exists(d.Path("m.duckdb")));
        Assert.Equal(0, CliRunner.Run("sweep", d.Sweep, "--out", d.Path("a.duckdb")).ExitCode);
        File.WriteAllText(d.Path("bad.duckdb"), "not a database");
        var bad = CliRunner.Run("sweep", "merge", d.Path("a.duckdb"), d.Path("bad.duckdb"));
        Assert.Equal(2, bad.ExitCode);
        Assert.True(File.Exists(d.Path("a.duckdb")));
    }
}
