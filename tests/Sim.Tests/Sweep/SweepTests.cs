using Sim.Sweep;

namespace Sim.Tests;

/// <summary>Sweep files, their expansion and keys, and running them into DuckDB: determinism, resume, shards and merge.</summary>
public class SweepTests
{
    /// <summary>4 sizes (one infeasible: 12 GPUs do not divide a batch of 1,024) x 2 NICs x 2 precisions x overlap on/off = 32.</summary>
    public const string SweepYaml = """
        name: test-sweep
        base:
          topology: topo.yaml
          workload: work.yaml
          planner: greedy
        axes:
          nodes: [1, 2, 3, 4]
          nic_gbps: [100, 200]
          comm_precision: [fp32, fp16]
          overlap: [off, on]
        """;

    /// <summary>A folder with the fixture topology, workload and a sweep file.</summary>
    public sealed class SweepDir : IDisposable
    {
        private readonly Fixtures.TempDir _dir = new();
        public string Root => _dir.Path;
        public string Sweep { get; }

        public SweepDir(string sweepYaml = SweepYaml)
        {
            _dir.Write("topo.yaml", Fixtures.TopologyYaml(2, 4));
            _dir.Write("work.yaml", Fixtures.WorkloadYaml);
            Sweep = _dir.Write("sweep.yaml", sweepYaml);
        }

        public string Path(string name) => System.IO.Path.Combine(_dir.Path, name);
        public string Write(string name, string text) => _dir.Write(name, text);
        public void Dispose() => _dir.Dispose();
    }

    private static SweepSummary RunInto(string db, SweepSpec spec, SweepOptions options, CancellationToken cancel = default, IProgress<SweepProgress>? progress = null)
    {
        using var store = ResultStore.Open(db);
        return SweepRunner.Run(spec, store, options, progress, cancel);
    }

    private static byte[] Csv(string db, string csv)
    {
        using (var store = ResultStore.Open(db, readOnly: true)) store.ExportCsv(csv);
        return File.ReadAllBytes(csv);
    }

    private static List<string> Keys(string db)
    {
        using var store = ResultStore.Open(db, readOnly: true);
        return store.ReadRows().Select(r => r.Key).ToList();
    }

    [Fact]
    public void Expansion_is_the_cross_product_with_unique_deterministic_keys()
    {
        using var d = new SweepDir();
        var spec = SweepLoader.Load(d.Sweep);
        Assert.Equal(32, spec.Count);
        var points = SweepExpansion.Expand(spec, SweepInputs.Load(spec));
        Assert.Equal(32, points.Count);
        Assert.Equal(32, points.Select(p => p.Key).Distinct().Count());
        Assert.All(points, p => Assert.Matches("^[0-9a-f]{32}$", p.Key));
        Assert.Equal(4 * 2 * 2, points.Count(p => p.Overlap));
        Assert.Equal([1, 2, 3, 4], points.Select(p => p.Nodes).Distinct().Order().ToArray());
        Assert.All(points, p => Assert.Equal(p.AllToAllForwardPrecision, p.AllReducePrecision));

        // Same inputs, same keys; the order of axes in the file does not matter.
        var again = SweepExpansion.Expand(spec, SweepInputs.Load(spec)).Select(p => p.Key);
        Assert.Equal(points.Select(p => p.Key), again);
        var reordered = d.Write("reordered.yaml", SweepYaml.Replace("  nodes: [1, 2, 3, 4]\n", "").Replace("axes:\n", "axes:\n  nodes: [1, 2, 3, 4]\n").Replace("overlap: [off, on]", "overlap: [on, off]"));
        var spec2 = SweepLoader.Load(reordered);
        Assert.Equal(points.Select(p => p.Key).Order(), SweepExpansion.Expand(spec2, SweepInputs.Load(spec2)).Select(p => p.Key).Order());
    }

    [Fact]
    public void A_key_depends_on_the_inputs_contents_and_an_axis_at_the_base_value_is_no_axis()
    {
        using var d = new SweepDir("name: s\nbase: {topology: topo.yaml, workload: work.yaml}\naxes: {}\n");
        var spec = SweepLoader.Load(d.Sweep);
        var one = SweepExpansion.Expand(spec, SweepInputs.Load(spec));
        Assert.Single(one);
        // The fixture cluster has 2 nodes and 25 GB/s NICs = 200 Gb/s.
        var pinned = d.Write("pinned.yaml", "name: s\nbase: {topology: topo.yaml, workload: work.yaml}\naxes: {nodes: [2], nic_gbps: [200]}\n");
        var specPinned = SweepLoader.Load(pinned);
        Assert.Equal(one[0].Key, SweepExpansion.Expand(specPinned, SweepInputs.Load(specPinned))[0].Key);
        // Editing the workload file changes every key.
        d.Write("work.yaml", Fixtures.WorkloadYaml.Replace("rows: 5000", "rows: 5001"));
        Assert.NotEqual(one[0].Key, SweepExpansion.Expand(spec, SweepInputs.Load(spec))[0].Key);
    }

    [Fact]
    public void Infeasible_points_are_rows_with_a_reason_not_failures()
    {
        using var d = new SweepDir();
        var db = d.Path("r.duckdb");
        var summary = RunInto(db, SweepLoader.Load(d.Sweep), new SweepOptions { Threads = 2 });
        Assert.Equal(32, summary.Computed);
        Assert.Equal(8, summary.Infeasible);
        Assert.Equal(0, summary.Errors);
        using var store = ResultStore.Open(db, readOnly: true);
        var rows = store.ReadRows();
        Assert.All(rows.Where(r => r.Point.Nodes == 3), r =>
        {
            Assert.Equal(RowStatus.Infeasible, r.Status);
            Assert.Contains("does not divide", r.Error);
            Assert.Null(r.SamplesPerSecond);
        });
        Assert.All(rows.Where(r => r.Point.Nodes != 3), r =>
        {
            Assert.Equal(RowStatus.Ok, r.Status);
            Assert.True(r.SamplesPerSecond > 0);
            Assert.Equal(r.IterationSeconds!.Value, r.PhaseSeconds!.Sum(), 9);
            Assert.True(r.MemoryBytesMax > 0);
        });
    }

    [Fact]
    public void One_thread_and_many_threads_write_identical_rows()
    {
        using var d = new SweepDir();
        var spec = SweepLoader.Load(d.Sweep);
        RunInto(d.Path("one.duckdb"), spec, new SweepOptions { Threads = 1, ChunkWeight = 7 });
        RunInto(d.Path("many.duckdb"), spec, new SweepOptions { Threads = 8, ChunkWeight = 7 });
        RunInto(d.Path("bigchunks.duckdb"), spec, new SweepOptions { Threads = 3, ChunkWeight = 1000 });
        var a = Csv(d.Path("one.duckdb"), d.Path("one.csv"));
        Assert.Equal(33, File.ReadAllLines(d.Path("one.csv")).Length);
        Assert.Equal(a, Csv(d.Path("many.duckdb"), d.Path("many.csv")));
        Assert.Equal(a, Csv(d.Path("bigchunks.duckdb"), d.Path("bigchunks.csv")));
    }

    [Fact]
    public void An_interrupted_sweep_resumes_without_duplicates()
    {
        using var d = new SweepDir();
        var spec = SweepLoader.Load(d.Sweep);
        var db = d.Path("r.duckdb");
        using var cts = new CancellationTokenSource();
        // Ctrl+C while the first chunk is being computed: that chunk is finished and committed, nothing more.
        var progress = new Inline(p => { if (p.Done > 0) cts.Cancel(); });
        var first = RunInto(db, spec, new SweepOptions { Threads = 2, ChunkWeight = 5 }, cts.Token, progress);
        Assert.True(first.Interrupted);
        Assert.Equal(5, first.Computed);
        Assert.Equal(5, Keys(db).Count);

        var second = RunInto(db, spec, new SweepOptions { Threads = 2, ChunkWeight = 5 });
        Assert.False(second.Interrupted);
        Assert.Equal(5, second.AlreadyStored);
        Assert.Equal(27, second.Computed);
        var keys = Keys(db);
        Assert.Equal(32, keys.Count);
        Assert.Equal(32, keys.Distinct().Count());

        // A third run has nothing left to do; the result equals an uninterrupted run.
        Assert.Equal(0, RunInto(db, spec, new SweepOptions()).Computed);
        RunInto(d.Path("fresh.duckdb"), spec, new SweepOptions { Threads = 2 });
        Assert.Equal(Csv(d.Path("fresh.duckdb"), d.Path("fresh.csv")), Csv(db, d.Path("resumed.csv")));
    }

    private sealed class Inline(Action<SweepProgress> a) : IProgress<SweepProgress>
    {
        public void Report(SweepProgress value) => a(value);
    }

    [Fact]
    public void Shards_are_disjoint_and_their_merge_equals_the_unsharded_run()
    {
        using var d = new SweepDir();
        var spec = SweepLoader.Load(d.Sweep);
        RunInto(d.Path("all.duckdb"), spec, new SweepOptions { Threads = 2 });
        var parts = new List<string>();
        var seen = new HashSet<string>();
        for (var i = 0; i < 3; i++)
        {
            var part = d.Path($"part{i}.duckdb");
            RunInto(part, spec, new SweepOptions { Threads = 2, Shard = new SweepShard(i, 3) });
            foreach (var k in Keys(part)) Assert.True(seen.Add(k), $"key {k} is in two shards");
            parts.Add(part);
        }
        Assert.Equal(32, seen.Count);
        Assert.All(parts, p => Assert.InRange(Keys(p).Count, 1, 31));

        var merged = d.Path("merged.duckdb");
        var m = ResultStore.Merge(merged, parts);
        Assert.Equal(32, m.RowsAdded);
        Assert.Equal(0, m.Conflicts);
        // Merging a part again adds nothing.
        Assert.Equal(0, ResultStore.Merge(merged, [parts[1]]).RowsAdded);
        Assert.Equal(Csv(d.Path("all.duckdb"), d.Path("all.csv")), Csv(merged, d.Path("merged.csv")));
    }

    [Fact]
    public void The_cli_runs_shards_and_merges_them()
    {
        using var d = new SweepDir();
        var a = CliRunner.Run("sweep", d.Sweep, "--out", d.Path("a.duckdb"), "--shard", "0/2", "--threads", "2");
        var b = CliRunner.Run("sweep", d.Sweep, "--out", d.Path("b.duckdb"), "--shard", "1/2", "--threads", "1");
        Assert.Equal(0, a.ExitCode);
        Assert.Equal(0, b.ExitCode);
        Assert.Contains("in shard 0/2 of 32", a.Stdout);
        var m = CliRunner.Run("sweep", "merge", d.Path("m.duckdb"), d.Path("a.duckdb"), d.Path("b.duckdb"));
        Assert.Equal(0, m.ExitCode);
        Assert.Contains("32 rows in all", m.Stdout);
        var full = CliRunner.Run("sweep", d.Sweep, "--out", d.Path("full.duckdb"), "--csv", d.Path("full.csv"));
        Assert.Equal(0, full.ExitCode);
        Assert.Contains("24 ok, 8 infeasible, 0 errors", full.Stdout);
        Assert.Equal(File.ReadAllBytes(d.Path("full.csv")), Csv(d.Path("m.duckdb"), d.Path("m.csv")));
        var again = CliRunner.Run("sweep", d.Sweep, "--out", d.Path("full.duckdb"), "--parquet", d.Path("full.parquet"));
        Assert.Contains("computed 0, already in the database 32", again.Stdout);
        Assert.True(new FileInfo(d.Path("full.parquet")).Length > 0);
    }

    /// <summary>`sim` in a process of its own, as a scheduler's array task runs it, with the task's environment.</summary>
    private static (int Code, string Stdout, string Stderr) SimProcess(IDictionary<string, string> env, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(System.IO.Path.Combine(AppContext.BaseDirectory, "sim.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var name in new[] { "SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX", "SIM_SHARD_COUNT" })
            psi.Environment.Remove(name);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    [Fact]
    public void Array_tasks_of_Slurm_and_Kubernetes_run_their_shard_as_separate_processes_and_merge_to_the_whole()
    {
        using var d = new SweepDir();
        var parts = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            // Slurm numbers this array from 5 (--array=5-7): the shard is the task's place in the array.
            var r = SimProcess(new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = (5 + i).ToString(), ["SLURM_ARRAY_TASK_COUNT"] = "3", ["SLURM_ARRAY_TASK_MIN"] = "5" },
                "sweep", d.Sweep, "--out", d.Path($"slurm{i}.duckdb"), "--threads", "1");
            Assert.True(r.Code == 0, r.Stderr);
            Assert.Contains($"shard {i}/3 from SLURM_ARRAY_TASK_ID", r.Stderr);
            parts.Add(d.Path($"slurm{i}.duckdb"));
        }
        var k8s = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var r = SimProcess(new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = i.ToString(), ["SIM_SHARD_COUNT"] = "2" },
                "sweep", d.Sweep, "--out", d.Path($"k8s{i}.duckdb"), "--threads", "1");
            Assert.True(r.Code == 0, r.Stderr);
            Assert.Contains($"in shard {i}/2 of 32", r.Stdout);
            k8s.Add(d.Path($"k8s{i}.duckdb"));
        }
        var whole = CliRunner.Run("sweep", d.Sweep, "--out", d.Path("whole.duckdb"), "--csv", d.Path("whole.csv"));
        Assert.Equal(0, whole.ExitCode);
        foreach (var (name, set) in new[] { ("slurm", parts), ("k8s", k8s) })
        {
            Assert.Equal(0, CliRunner.Run(["sweep", "merge", d.Path($"{name}.duckdb"), .. set]).ExitCode);
            Assert.Equal(File.ReadAllBytes(d.Path("whole.csv")), Csv(d.Path($"{name}.duckdb"), d.Path($"{name}.csv")));
        }
        var missing = SimProcess(new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "0" }, "sweep", d.Sweep, "--out", d.Path("x.duckdb"));
        Assert.Equal(2, missing.Code);
        Assert.Contains("SIM_SHARD_COUNT", missing.Stderr);
    }

    [Fact]
    public void A_sweep_of_forty_million_points_streams_them_one_at_a_time_in_the_order_of_the_whole()
    {
        var many = string.Join(", ", Enumerable.Range(1, 1000).Select(i => (i * 10).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var batches = string.Join(", ", Enumerable.Range(1, 40).Select(i => (i * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using var d = new SweepDir($"name: huge\nbase: {{topology: topo.yaml, workload: work.yaml, planner: greedy}}\naxes:\n  nic_gbps: [{many}]\n  nvlink_gbytes_per_second: [{many}]\n  batch_size: [{batches}]\n");
        var spec = SweepLoader.Load(d.Sweep);
        Assert.Equal(40_000_000, spec.Count);
        var first = SweepExpansion.Stream(spec, SweepInputs.Load(spec)).Take(5).ToList(); // would not fit in memory whole
        Assert.Equal(5, first.Select(p => p.Key).Distinct().Count());
        Assert.Equal([10.0, 10, 10, 10, 10], first.Select(p => p.NicGbps));

        using var small = new SweepDir();
        var smallSpec = SweepLoader.Load(small.Sweep);
        Assert.Equal(SweepExpansion.Expand(smallSpec, SweepInputs.Load(smallSpec)).Select(p => p.Key),
            SweepExpansion.Stream(smallSpec, SweepInputs.Load(smallSpec)).Select(p => p.Key));
    }

    [Fact]
    public void A_fabric_follows_the_family_size_or_the_size_is_infeasible()
    {
        // A fat tree with 4 nodes per leaf: 1 and 2 nodes are one partly filled leaf; 6 nodes do not fit.
        using var d = new SweepDir("name: fam\nbase: {topology: fabric.yaml, workload: work.yaml}\naxes:\n  nodes: [1, 2, 6]\n  batch_size_per_gpu: [16]\n  mode: [event]\n");
        d.Write("fabric.yaml", Fixtures.TopologyYaml(8, 4) + """
            fabric:
              node: {kind: nvswitch, source: test}
              nic: {placement: per_gpu, source: test}
              scale_out: {kind: fat_tree, nodes_per_leaf: 4, source: test}
            """);
        var db = d.Path("r.duckdb");
        RunInto(db, SweepLoader.Load(d.Sweep), new SweepOptions { Threads = 2 });
        using var store = ResultStore.Open(db, readOnly: true);
        var rows = store.ReadRows().ToDictionary(r => r.Point.Nodes);
        Assert.Equal(RowStatus.Ok, rows[1].Status);
        Assert.Equal(RowStatus.Ok, rows[2].Status);
        Assert.Equal(16L * 8, rows[2].Point.BatchSize);
        Assert.Equal(RowStatus.Infeasible, rows[6].Status);
        Assert.Contains("fabric.yaml: fabric.scale_out.nodes_per_leaf: 4 nodes per leaf do not divide the 6 nodes of a pod", rows[6].Error);
    }

    [Fact]
    public void Shard_specs_are_checked()
    {
        Assert.Equal(new SweepShard(2, 4), SweepShard.Parse("2/4"));
        foreach (var bad in new[] { "4/4", "-1/4", "1", "a/b", "0/0" })
            Assert.Throws<Config.SimInputException>(() => SweepShard.Parse(bad));
    }

    [Fact]
    public void The_shipped_scaling_sweep_loads_and_spans_8_to_2048_gpus()
    {
        var spec = SweepLoader.Load(Fixtures.Repo("workloads/sweeps/zionex-scaling.yaml"));
        var points = SweepExpansion.Expand(spec, SweepInputs.Load(spec));
        Assert.Equal(54, points.Count);
        Assert.Equal(8, points.Min(p => p.Gpus));
        Assert.Equal(2048, points.Max(p => p.Gpus));
        Assert.Equal([100.0, 200.0, 400.0], points.Select(p => p.NicGbps).Distinct().Order().ToArray());
    }

    [Fact]
    public void A_database_that_is_not_a_results_database_is_refused()
    {
        using var d = new SweepDir();
        var path = d.Write("not.duckdb", "hello");
        var r = CliRunner.Run("report", path, "--out", d.Path("r.html"));
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: ", r.Stderr);
        Assert.Contains("not.duckdb", r.Stderr);
    }
}
