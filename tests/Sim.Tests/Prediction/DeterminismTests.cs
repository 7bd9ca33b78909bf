namespace Sim.Tests;

/// <summary>
/// Identical inputs give byte-identical outputs: predictions (both modes), traces, and sweep databases whatever the
/// thread count. (Analytical JSON across runs, and 1 vs 8 threads on an analytical sweep, are in PredictCliTests and
/// SweepTests; this adds the event engine, traces, concurrent runs and an event-mode sweep.)
/// </summary>
public class DeterminismTests
{
    private static readonly string Topology = Fixtures.Repo("topologies/zionex-16node.yaml");
    private static readonly string Workload = Fixtures.Repo("workloads/mlperf-dlrm-v1.yaml");

    [Theory]
    [InlineData("analytical")]
    [InlineData("event")]
    public void Predictions_and_traces_are_byte_identical_run_after_run(string mode)
    {
        using var dir = new Fixtures.TempDir();
        string Run(string trace)
        {
            var r = CliRunner.Run("predict", Topology, Workload, "--json", "--mode", mode, "--trace", Path.Combine(dir.Path, trace));
            Assert.True(r.ExitCode == 0, r.Stderr);
            return r.Stdout;
        }
        var first = Run("a.json");
        var second = Run("b.json");
        Assert.Equal(first, second);
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir.Path, "a.json")), File.ReadAllBytes(Path.Combine(dir.Path, "b.json")));
        Assert.False(File.Exists(Path.Combine(dir.Path, "a.json.tmp")));
    }

    /// <summary>Four predictions at once in one process (as a sweep's workers do) print what one alone prints: no shared state.</summary>
    [Fact]
    public void Concurrent_predictions_print_the_same_bytes_as_one_alone()
    {
        string[] args = ["predict", Topology, Workload, "--json", "--mode", "event"];
        var alone = CliRunner.Run(args).Stdout;
        var together = new string[4];
        Parallel.For(0, together.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => together[i] = CliRunner.Run(args).Stdout);
        Assert.All(together, s => Assert.Equal(alone, s));
    }

    /// <summary>An event-mode sweep (the engine inside the workers) writes the same CSV on 1 and 3 threads.</summary>
    [Fact]
    public void An_event_mode_sweep_exports_the_same_csv_on_one_and_three_threads()
    {
        using var d = new SweepTests.SweepDir("""
            name: det-event
            base: {topology: topo.yaml, workload: work.yaml, planner: greedy, mode: event}
            axes:
              nodes: [1, 2]
              nic_gbps: [50, 200]
              overlap: [off, on]
            """);
        byte[] Csv(int threads)
        {
            var db = d.Path($"t{threads}.duckdb");
            var csv = d.Path($"t{threads}.csv");
            var r = CliRunner.Run("sweep", d.Sweep, "--out", db, "--threads", threads.ToString(System.Globalization.CultureInfo.InvariantCulture), "--csv", csv);
            Assert.True(r.ExitCode == 0, r.Stderr);
            return File.ReadAllBytes(csv);
        }
        var one = Csv(1);
        Assert.Equal(9, System.Text.Encoding.UTF8.GetString(one).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(one, Csv(3));
    }
}
