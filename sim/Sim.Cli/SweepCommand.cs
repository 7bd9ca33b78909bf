using System.CommandLine;
using System.Globalization;
using Sim.Config;
using Sim.Sweep;
using Spectre.Console;
using Sim.Predictions;

namespace Sim.Cli;

/// <summary>
/// `sim sweep SWEEP.yaml`: runs the cross product of a sweep file's axes into a DuckDB database (resumable,
/// shardable), optionally exports CSV/Parquet; `sim sweep merge OUT PARTS...` joins shard databases;
/// `sim sweep SWEEP.yaml --bench` measures analytical sweep throughput without writing anything.
/// </summary>
internal static class SweepCommand
{
    /// <summary>Exit code of a run stopped by Ctrl+C (its finished chunks are kept; run again to resume).</summary>
    public const int Interrupted = 130;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var file = new Argument<string>("sweep") { Description = "sweep file (YAML): base topology, workload, planner or plan, and axes" };
        var output = new Option<string?>("--out") { Description = "results database (DuckDB); default: SWEEPNAME.duckdb (SWEEPNAME.shard-I-of-N.duckdb with --shard)" };
        var threads = new Option<int>("--threads") { Description = "worker threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var shard = new Option<string?>("--shard") { Description = "run only part I of N (I from 0 to N-1); default from a Slurm job array (SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX/SIM_SHARD_COUNT); join parts with `sim sweep merge`" };
        var mode = ModeOption.Create("analytical or event: replaces the sweep's base mode", optional: true);
        var profile = ModeOption.Profile();
        var csv = new Option<string?>("--csv") { Description = "after the run, export every row of the database as CSV (sorted by key)" };
        var parquet = new Option<string?>("--parquet") { Description = "after the run, export every row of the database as Parquet" };
        var bench = new Option<bool>("--bench") { Description = "measure analytical sweep throughput (configurations/s per core) on this sweep; writes nothing" };
        var benchSeconds = new Option<double>("--bench-seconds") { Description = "seconds each --bench measurement runs", DefaultValueFactory = _ => 3 };
        var maxConfigurations = new Option<long>("--max-configurations")
        {
            Description = "refuse a sweep of more configurations than this unless --yes (a sweep's axes multiply quickly)", DefaultValueFactory = _ => DefaultMaxConfigurations,
        };
        var yes = new Option<bool>("--yes") { Description = "run a sweep larger than --max-configurations" };
        var json = JsonOutput.Option("the run's summary (configurations, rows by status, where they are)");

        var cmd = new Command("sweep", "Run a what-if sweep: the cross product of a sweep file's axes, one row per configuration, into DuckDB.")
        {
            file, output, threads, shard, mode, profile, csv, parquet, bench, benchSeconds, maxConfigurations, yes, json,
        };
        cmd.Subcommands.Add(CreateMerge(stdout, stderr));
        cmd.SetAction(r =>
        {
            var path = r.GetValue(file)!;
            var spec = SweepLoader.Load(path);
            var t = r.GetValue(threads);
            if (t < 1) throw new SimInputException("--threads", "", $"must be at least 1, found {t}");
            var modeWord = r.GetValue(mode);
            if (r.GetValue(bench)) return Bench(spec, t, r.GetValue(benchSeconds), modeWord, stdout);
            var predictor = ModeOption.Predictor(r.GetValue(profile), ModeOption.StackFor(null, spec.WorkloadPath));
            var part = r.GetValue(shard) is { } s ? SweepShard.Parse(s) : FromScheduler(stderr);
            var mine = spec.Count / part.Count;
            if (mine > r.GetValue(maxConfigurations) && !r.GetValue(yes))
                throw new SimInputException(spec.File, "axes", $"{spec.Count.ToString("N0", Inv)} configurations{(part.Count > 1 ? $" (about {mine.ToString("N0", Inv)} in this shard)" : "")} " +
                    $"are more than --max-configurations {r.GetValue(maxConfigurations).ToString("N0", Inv)}; add --yes to run them, or shard the sweep (--shard I/N)");
            var outPath = r.GetValue(output) ?? DefaultOut(path, part);
            return Run(spec, outPath, new SweepOptions { Threads = t, Shard = part, Mode = modeWord is null ? null : ModeOption.Parse(modeWord), Predictor = predictor },
                r.GetValue(csv), r.GetValue(parquet), r.GetValue(json), stdout, stderr);
        });
        return cmd;
    }

    /// <summary>Without --shard, the part a Slurm array task or Kubernetes Indexed Job runs (said on stderr), else all.</summary>
    private static SweepShard FromScheduler(TextWriter stderr)
    {
        if (SweepShard.FromEnvironment(Environment.GetEnvironmentVariable, out var source) is not { } part) return SweepShard.All;
        stderr.WriteLine($"shard {part} from {source}");
        return part;
    }

    public static string DefaultOut(string sweepPath, SweepShard shard)
    {
        var stem = Path.GetFileNameWithoutExtension(sweepPath);
        return shard.Count > 1 ? $"{stem}.shard-{shard.Index}-of-{shard.Count}.duckdb" : $"{stem}.duckdb";
    }

    /// <summary>
    /// Runs <paramref name="work"/> that creates the database <paramref name="path"/>; if it fails, a database that did
    /// not exist before is removed with its write-ahead log, so a failed command leaves nothing behind.
    /// </summary>
    /// <param name="keepRows">keep it when it holds rows (a sweep's finished chunks, kept to resume).</param>
    private static T RemovedOnFailure<T>(string path, Func<T> work, bool keepRows = false)
    {
        var existed = File.Exists(path);
        try { return work(); }
        catch when (!existed && !(keepRows && HasRows(path)))
        {
            foreach (var f in new[] { path, path + ".wal" })
                if (File.Exists(f)) File.Delete(f);
            throw;
        }
    }

    private static bool HasRows(string path)
    {
        try
        {
            using var store = ResultStore.Open(path, readOnly: true);
            return store.Count() > 0;
        }
        catch (Exception) { return false; }
    }

    /// <summary>Above this many configurations a sweep asks for --yes.</summary>
    public const long DefaultMaxConfigurations = 1_000_000;

    /// <summary>Before the work: how many configurations, and what one costs (the base configuration, timed after a warm-up run).</summary>
    /// <summary>
    /// Before the work: how many configurations, and what one costs (the base configuration, timed once its plan is made
    /// and the code is warm). The warm evaluator, its inputs and its plan go on to the run.
    /// </summary>
    private static SweepEvaluator Announce(SweepSpec spec, SweepOptions options, TextWriter stderr)
    {
        var count = spec.Count / options.Shard.Count;
        var evaluator = new SweepEvaluator(SweepInputs.Load(spec, options.Predictor));
        var point = evaluator.Inputs.BasePoint(spec.Planner, spec.Overlap, options.Mode ?? spec.Mode);
        evaluator.Evaluate(point);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        evaluator.Evaluate(point);
        var each = clock.Elapsed.TotalSeconds;
        stderr.WriteLine($"sweep {spec.Name}: {(options.Shard.Count > 1 ? "about " : "")}{count.ToString("N0", Inv)} configurations on {options.Threads} thread(s); " +
            $"the base configuration takes {Units.Seconds(each)} once planned: {SweepEta.Duration(each * count / Math.Max(1, options.Threads))} in all, roughly " +
            "(more where the axes change the plan; configurations already stored are skipped)");
        return evaluator;
    }

    private static int Run(SweepSpec spec, string outPath, SweepOptions options, string? csv, string? parquet, bool json, TextWriter stdout, TextWriter stderr)
    {
        var evaluator = Announce(spec, options, stderr);
        return RemovedOnFailure(outPath, () => RunInto(spec, outPath, options, evaluator, csv, parquet, json, stdout, stderr), keepRows: true);
    }

    private static int RunInto(SweepSpec spec, string outPath, SweepOptions options, SweepEvaluator evaluator, string? csv, string? parquet, bool json,
        TextWriter stdout, TextWriter stderr)
    {
        using var store = ResultStore.Open(outPath);
        using var cts = new CancellationTokenSource();
        void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            if (cts.IsCancellationRequested) return; // a second Ctrl+C stops at once; committed chunks stay
            e.Cancel = true;
            cts.Cancel();
            stderr.WriteLine("interrupted: finishing the chunk in flight (Ctrl+C again stops at once); run the same command to resume");
        }
        Console.CancelKeyPress += OnCancel;
        SweepSummary summary;
        try
        {
            summary = ShowProgress(stderr)
                ? RunWithProgressBar(spec, store, options, evaluator, cts.Token, stderr)
                : SweepRunner.Run(spec, store, options, PlainProgress(spec, stderr), cts.Token, evaluator);
        }
        finally
        {
            Console.CancelKeyPress -= OnCancel;
        }

        if (csv is not null) store.ExportCsv(csv);
        if (parquet is not null) store.ExportParquet(parquet);
        if (json)
        {
            JsonOutput.Print(stdout, new System.Text.Json.Nodes.JsonObject
            {
                ["sweep"] = spec.Name, ["file"] = spec.File, ["shard"] = options.Shard.ToString(), ["configurations"] = summary.Configurations,
                ["computed"] = summary.Computed, ["already_stored"] = summary.AlreadyStored, ["ok"] = summary.Ok, ["infeasible"] = summary.Infeasible,
                ["errors"] = summary.Errors, ["interrupted"] = summary.Interrupted, ["seconds"] = summary.Elapsed.TotalSeconds, ["threads"] = options.Threads,
                ["results"] = outPath, ["rows"] = store.Count(), ["csv"] = csv, ["parquet"] = parquet,
                ["axes"] = JsonOutput.Array(spec.Axes, a => new System.Text.Json.Nodes.JsonObject { ["axis"] = a.Axis.Name, ["values"] = a.Values.Count }),
            });
            return summary.Interrupted ? Interrupted : 0;
        }
        var axes = spec.Axes.Count == 0 ? "no axes" : string.Join(" x ", spec.Axes.Select(a => $"{a.Axis.Name} ({a.Values.Count})"));
        stdout.WriteLine($"sweep {spec.Name} ({spec.File}): {summary.Configurations.ToString("N0", Inv)} configurations" +
            (options.Shard.Count > 1 ? $" in shard {options.Shard} of {Total(spec).ToString("N0", Inv)}" : "") + $"; {axes}");
        var rate = summary.Computed / Math.Max(summary.Elapsed.TotalSeconds, 1e-9);
        stdout.WriteLine($"  computed {summary.Computed.ToString("N0", Inv)}, already in the database {summary.AlreadyStored.ToString("N0", Inv)}; " +
            $"{summary.Ok.ToString("N0", Inv)} ok, {summary.Infeasible.ToString("N0", Inv)} infeasible, {summary.Errors.ToString("N0", Inv)} errors; " +
            $"{summary.Elapsed.TotalSeconds.ToString("0.00", Inv)} s on {options.Threads} threads ({rate.ToString("N0", Inv)} configurations/s)");
        stdout.WriteLine($"results: {outPath} ({store.Count().ToString("N0", Inv)} rows: {store.Count(RowStatus.Ok).ToString("N0", Inv)} ok, " +
            $"{store.Count(RowStatus.Infeasible).ToString("N0", Inv)} infeasible, {store.Count(RowStatus.Error).ToString("N0", Inv)} errors)");
        if (csv is not null) stdout.WriteLine($"csv: {csv}");
        if (parquet is not null) stdout.WriteLine($"parquet: {parquet}");
        if (summary.Interrupted)
        {
            stdout.WriteLine($"interrupted after {summary.Computed.ToString("N0", Inv)} of {(summary.Configurations - summary.AlreadyStored).ToString("N0", Inv)}; run the same command again to resume");
            return Interrupted;
        }
        // The path as given: a display name would drop the folder of an absolute --out.
        stdout.WriteLine($"next: sim report {outPath} --out {Path.ChangeExtension(outPath, ".html")}");
        return 0;
    }

    private static long Total(SweepSpec spec) => spec.Count;

    /// <summary>A progress bar only where a person watches: stderr is the console and a terminal.</summary>
    private static bool ShowProgress(TextWriter stderr) =>
        ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") is null;

    /// <summary>
    /// Progress where no one watches a bar (a log, CI, a batch job): a line at every tenth of the work and at least
    /// once a minute, with the rows done, the elapsed time and the time left.
    /// </summary>
    private static IProgress<SweepProgress> PlainProgress(SweepSpec spec, TextWriter stderr)
    {
        SweepEta? eta = null;
        long nextStep = 0;
        double nextTime = 60;
        var gate = new object();
        return new InlineProgress<SweepProgress>(p =>
        {
            lock (gate)
            {
                if (p.Total <= 0) return;
                eta ??= new SweepEta(p.Total);
                var step = p.Done * 10 / p.Total;
                // Short sweeps say nothing in between: the first line comes after 5 s.
                if (p.Done == 0 || eta.ElapsedSeconds < 5 || (step < nextStep && eta.ElapsedSeconds < nextTime) || p.Done == p.Total) return;
                nextStep = step + 1;
                nextTime = eta.ElapsedSeconds + 60;
                stderr.WriteLine($"sweep {spec.Name}: {p.Done.ToString("N0", Inv)} of {p.Total.ToString("N0", Inv)} ({(double)p.Done / p.Total:P0}), " +
                    $"{SweepEta.Duration(eta.ElapsedSeconds)} elapsed, {eta.Text(p.Done)}");
            }
        });
    }

    private static SweepSummary RunWithProgressBar(SweepSpec spec, ResultStore store, SweepOptions options, SweepEvaluator evaluator, CancellationToken cancel, TextWriter stderr)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stderr) });
        SweepSummary? summary = null;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var name = $"sweep {Markup.Escape(spec.Name)}";
                var task = ctx.AddTask(name, maxValue: 1);
                var gate = new object();
                SweepEta? eta = null;
                var progress = new InlineProgress<SweepProgress>(p =>
                {
                    // Reported from worker threads: keep the largest count seen. The time left is the average rate's
                    // (Spectre's own estimate follows the last few points and jumps).
                    lock (gate)
                    {
                        task.MaxValue = Math.Max(1, p.Total);
                        eta ??= new SweepEta(p.Total);
                        if (p.Done > task.Value) task.Value = p.Done;
                        task.Description = $"{name}: {eta.Text(p.Done)}";
                    }
                });
                summary = SweepRunner.Run(spec, store, options, progress, cancel, evaluator);
                task.Value = task.MaxValue;
            });
        return summary!;
    }

    /// <summary>Reports synchronously on the reporting thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    private static int Bench(SweepSpec spec, int threads, double seconds, string? mode, TextWriter stdout)
    {
        if (mode is not null && ModeOption.Parse(mode) == PredictionMode.Event) throw new SimInputException("--mode", "", "--bench measures the analytical model; drop --mode event");
        if (!(seconds > 0)) throw new SimInputException("--bench-seconds", "", $"must be positive, found {seconds}");
        var inputs = SweepInputs.Load(spec);
        stdout.WriteLine($"sweep {spec.Name}: {spec.Count.ToString("N0", Inv)} configurations of {inputs.Workload.Name} ({inputs.Workload.Tables.Count} tables) " +
            $"on {inputs.Cluster.Name} ({inputs.Cluster.WorldSize} GPUs in the base), analytical mode, {seconds.ToString("0.#", Inv)} s per measurement");
        var r = SweepBenchmark.Run(spec, threads, seconds);
        stdout.WriteLine($"whole rows, 1 thread:   {r.ConfigurationsPerSecondOneThread.ToString("N0", Inv)} configurations/s per core (goal 50,000), {(r.BytesAllocatedPerConfiguration / 1024).ToString("N1", Inv)} KiB allocated per configuration");
        if (threads > 1)
            stdout.WriteLine($"whole rows, {threads} threads:  {r.ConfigurationsPerSecondAllThreads.ToString("N0", Inv)} configurations/s " +
                $"({(r.ConfigurationsPerSecondAllThreads / threads).ToString("N0", Inv)} per thread)");
        stdout.WriteLine($"IterationSeconds alone (plan ready): {r.IterationSecondsOnlyPerSecond.ToString("N0", Inv)} predictions/s per core");
        var s = r.Stages;
        var console = Terminal.For(stdout);
        var table = new Table().AddColumn("stage (fresh plan per row)").AddColumn(new TableColumn("per configuration").RightAligned()).AddColumn(new TableColumn("share").RightAligned())
            .AddColumn(new TableColumn("allocated").RightAligned());
        static string KiB(double b) => $"{(b / 1024).ToString("N1", Inv)} KiB";
        void Row(string name, double v, int i) => table.AddRow(name, Units.Seconds(v), (v / s.Total).ToString("P1", Inv), KiB(s.Bytes[i]));
        Row("planner (Scenario.MakePlan)", s.Plan, 0);
        Row("memory model (MemoryModel.PerRank)", s.Memory, 1);
        Row("iteration DAG (IterationGraph.Build)", s.GraphBuild, 2);
        Row("longest path (Timeline.Analytical)", s.Timeline, 3);
        Row("report (Prediction.From: critical path, per-rank sums)", s.Report, 4);
        Row("key (SHA-256)", s.Key, 5);
        table.AddRow("[bold]total[/]", $"[bold]{Units.Seconds(s.Total)}[/]", "100.0 %", $"[bold]{KiB(s.Bytes.Sum())}[/]");
        console.Write(table);
        stdout.WriteLine($"{Environment.ProcessorCount} cores on this machine; nothing was written");
        return 0;
    }

    private static Command CreateMerge(TextWriter stdout, TextWriter stderr)
    {
        var output = new Argument<string>("out") { Description = "database to merge into (created if missing)" };
        var parts = new Argument<string[]>("parts") { Description = "result databases of the parts (e.g. from --shard I/N runs)", Arity = ArgumentArity.OneOrMore };
        var json = JsonOutput.Option("the merge's counts");
        var cmd = new Command("merge", "Join result databases (the parts of a sharded sweep) without duplicates.") { output, parts, json };
        cmd.SetAction(r =>
        {
            var outPath = r.GetValue(output)!;
            var result = RemovedOnFailure(outPath, () => ResultStore.Merge(outPath, r.GetValue(parts)!));
            using var store = ResultStore.Open(outPath, readOnly: true);
            if (r.GetValue(json))
                JsonOutput.Print(stdout, new System.Text.Json.Nodes.JsonObject
                {
                    ["results"] = outPath, ["parts"] = result.Parts, ["rows_read"] = result.RowsRead, ["rows_added"] = result.RowsAdded,
                    ["rows"] = store.Count(), ["conflicts"] = result.Conflicts,
                });
            else stdout.WriteLine($"merged {result.Parts} parts into {store.File}: {result.RowsRead.ToString("N0", Inv)} rows read, " +
                $"{result.RowsAdded.ToString("N0", Inv)} added, {(result.RowsRead - result.RowsAdded).ToString("N0", Inv)} already there; {store.Count().ToString("N0", Inv)} rows in all");
            if (result.Conflicts > 0)
            {
                stderr.WriteLine($"warning: {result.Conflicts} keys appear with different values (parts made by different Sim versions?); the first value was kept");
                return 1;
            }
            return 0;
        });
        return cmd;
    }
}
