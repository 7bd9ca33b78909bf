using Sim.Predictions;

namespace Sim.Sweep;

/// <summary>How a sweep is run. None of these but <see cref="Predictor"/> change a row's content (its cost parameters are part of every key).</summary>
public sealed record SweepOptions
{
    public int Threads { get; init; } = Environment.ProcessorCount;
    public SweepShard Shard { get; init; } = SweepShard.All;
    /// <summary>The CLI's --mode (replaces the base mode).</summary>
    public PredictionMode? Mode { get; init; }
    /// <summary>The CLI's --profile: the predictor every configuration is planned and predicted with (default: uncalibrated).</summary>
    public Predictor? Predictor { get; init; }
    /// <summary>
    /// Work per committed chunk: an analytical configuration weighs 1, an event one <see cref="EventWeight"/>.
    /// A chunk is computed in parallel and written in one transaction; an interruption loses at most one chunk.
    /// </summary>
    public int ChunkWeight { get; init; } = 2048;
    public int EventWeight { get; init; } = 256;
}

/// <summary>Configurations of this run evaluated so far and in all (reported from worker threads as each finishes).</summary>
public readonly record struct SweepProgress(long Done, long Total);

/// <summary>What a run did.</summary>
public sealed record SweepSummary(long Configurations, long AlreadyStored, long Computed, long Ok, long Infeasible, long Errors, bool Interrupted, TimeSpan Elapsed);

/// <summary>
/// Runs a sweep into a <see cref="ResultStore"/>: expands the axes (keeping this shard's keys), skips keys already
/// stored, and computes the rest in chunks, each in parallel over <see cref="SweepOptions.Threads"/> and committed
/// sorted by key. Chunks are cut in expansion order with a fixed weight, so what is written does not depend on the
/// thread count; a cancelled run stops after the chunk in flight and resumes on the next run.
/// </summary>
public static class SweepRunner
{
    /// <param name="evaluator">an evaluator over this sweep's inputs that is already warm (the CLI times one configuration
    /// before it starts); null: the inputs are loaded here.</param>
    public static SweepSummary Run(SweepSpec spec, ResultStore store, SweepOptions options, IProgress<SweepProgress>? progress = null,
        CancellationToken cancel = default, SweepEvaluator? evaluator = null)
    {
        var started = DateTime.UtcNow;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        evaluator ??= new SweepEvaluator(SweepInputs.Load(spec, options.Predictor));
        var inputs = evaluator.Inputs;
        // Points stream from the axes and are checked against the store a batch at a time: memory stays bounded by a
        // chunk, whatever the sweep's size. The total for progress is an estimate until the stream ends.
        var points = SweepExpansion.Stream(spec, inputs, options.Mode, options.Shard);
        store.SaveAxes(spec.Name, spec.Axes);
        long seen = 0, already = 0;
        // A store with no results yet holds none of the keys: a fresh sweep skips the lookups (a third of its time
        // besides the predictions), and the store is only written after each chunk's lookups.
        var fresh = store.Count() == 0;
        IEnumerable<SweepPoint> Todo()
        {
            foreach (var batch in points.Chunk(LookupBatch))
            {
                seen += batch.Length;
                var stored = fresh ? [] : store.Stored(batch.Select(p => p.Key).ToList());
                already += stored.Count;
                foreach (var p in batch) if (!stored.Contains(p.Key)) yield return p;
            }
        }

        long done = 0, ok = 0, infeasible = 0, errors = 0, evaluated = 0;
        var interrupted = false;
        var estimate = Math.Max(1, spec.Count / Math.Max(1, options.Shard.Count) - (fresh ? 0 : store.Count()));
        progress?.Report(new SweepProgress(0, estimate));
        Action? onPoint = progress is null ? null : () =>
        {
            var n = Interlocked.Increment(ref evaluated);
            progress.Report(new SweepProgress(n, Math.Max(n, estimate)));
        };
        var finished = true;
        foreach (var chunk in Chunks(Todo(), options))
        {
            if (cancel.IsCancellationRequested) { interrupted = true; finished = false; break; }
            var rows = Evaluate(evaluator, chunk, options.Threads, onPoint);
            evaluator.TrimCache();
            store.Append(rows);
            foreach (var r in rows)
            {
                if (r.Status == RowStatus.Ok) ok++;
                else if (r.Status == RowStatus.Infeasible) infeasible++;
                else errors++;
            }
            done += rows.Length;
        }
        // An interrupted run stopped its stream early: it knows only the points it reached, so it counts the rest from the spec.
        var configurations = finished ? seen : Math.Max(seen, spec.Count / Math.Max(1, options.Shard.Count));
        var summary = new SweepSummary(configurations, already, done, ok, infeasible, errors, interrupted, clock.Elapsed);
        store.SaveRun(new RunRecord(spec.Name, spec.File, started, DateTime.UtcNow, options.Threads, options.Shard.ToString(),
            configurations, done, already, interrupted));
        return summary;
    }

    /// <summary>Keys looked up in the store at a time.</summary>
    private const int LookupBatch = 4096;

    /// <summary>Evaluates points in parallel; the result array is in the points' order whatever the thread count.</summary>
    public static SweepRow[] Evaluate(SweepEvaluator evaluator, IReadOnlyList<SweepPoint> points, int threads, Action? onPoint = null)
    {
        var rows = new SweepRow[points.Count];
        if (threads <= 1 || points.Count <= 1)
        {
            for (var i = 0; i < points.Count; i++) { rows[i] = evaluator.Evaluate(points[i]); onPoint?.Invoke(); }
            return rows;
        }
        // Contiguous ranges per worker: neighbours share plans (overlap and mode turn fastest).
        var ranges = System.Collections.Concurrent.Partitioner.Create(0, points.Count, Math.Max(1, points.Count / (threads * 8)));
        Parallel.ForEach(ranges, new ParallelOptions { MaxDegreeOfParallelism = threads }, range =>
        {
            for (var i = range.Item1; i < range.Item2; i++) { rows[i] = evaluator.Evaluate(points[i]); onPoint?.Invoke(); }
        });
        return rows;
    }

    /// <summary>Consecutive runs of points whose weights add up to the chunk weight: a function of the points alone.</summary>
    public static IEnumerable<List<SweepPoint>> Chunks(IEnumerable<SweepPoint> points, SweepOptions options)
    {
        var chunk = new List<SweepPoint>();
        var weight = 0;
        foreach (var p in points)
        {
            chunk.Add(p);
            weight += p.Mode == PredictionMode.Event ? Math.Max(1, options.EventWeight) : 1;
            if (weight >= Math.Max(1, options.ChunkWeight))
            {
                yield return chunk;
                chunk = [];
                weight = 0;
            }
        }
        if (chunk.Count > 0) yield return chunk;
    }
}
