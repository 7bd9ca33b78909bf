using Sim.Accounting;
using Sim.Collectives;
using Sim.Cost;
using Sim.Cost.Operators;
using Sim.Sharding;
using Sim.Topology;
using Sim.Hardware;
using Sim.Workload;

namespace Sim.Iterations;

/// <summary>
/// The per-rank task DAG of one iteration, built from (Cluster, Workload, Plan) with task costs from the analytical
/// models. The analytical predictor takes its longest path; the event engine replays it with flows on the network.
/// The plan's <see cref="Schedule"/> decides what overlaps. A graph is an <see cref="IterationShape"/> (the structure,
/// shared by every configuration with the same <see cref="ShapeKey"/>) plus this configuration's seconds: a sweep row
/// prices a cached shape instead of allocating a DAG.
/// </summary>
public sealed class IterationGraph
{
    public IterationShape Shape { get; }
    public int World => Shape.World;
    public int Count => Shape.Count;
    public EmbeddingWork Embedding { get; }
    /// <summary>With fitted operator models, the largest share of a rank's step spent issuing on the host (null: no host model).</summary>
    public double? HostShare { get; private init; }

    /// <summary>Per task, its seconds (a collective's slowest rank).</summary>
    private readonly double[] _seconds;
    /// <summary>Per collective (<see cref="IterationShape.CollectiveOrdinal"/>), what it moves and each rank's seconds.</summary>
    private readonly CollectiveSpec[] _specs;
    private readonly double[][] _rankSeconds;
    private IterationTask[]? _tasks;

    private IterationGraph(IterationShape shape, double[] seconds, CollectiveSpec[] specs, double[][] rankSeconds, EmbeddingWork embedding)
    {
        Shape = shape; _seconds = seconds; _specs = specs; _rankSeconds = rankSeconds; Embedding = embedding;
    }

    /// <summary>Seconds of task <paramref name="task"/> (a collective's slowest rank).</summary>
    public double Seconds(int task) => _seconds[task];

    /// <summary>A collective's seconds per rank; null for a compute task.</summary>
    public double[]? RankSeconds(int task) => Shape.CollectiveOrdinal[task] is var o and >= 0 ? _rankSeconds[o] : null;

    /// <summary>The seconds of tasks <paramref name="first"/> .. first + count - 1 (a compute block's ranks).</summary>
    internal ReadOnlySpan<double> SecondsOf(int first, int count) => _seconds.AsSpan(first, count);

    /// <summary>Every task as a record (built on first use: the event engine, traces and exports read them; predictions need not).</summary>
    public IReadOnlyList<IterationTask> Tasks => _tasks ??= Materialise();

    private IterationTask[] Materialise()
    {
        var s = Shape;
        var tasks = new IterationTask[s.Count];
        for (var i = 0; i < tasks.Length; i++)
        {
            var o = s.CollectiveOrdinal[i];
            tasks[i] = new IterationTask(i, s.PhaseOf[i], s.KindOf[i], s.StreamOf[i], s.RankOf[i], _seconds[i], s.DependenciesOf(i),
                o >= 0 ? _specs[o] : null, o >= 0 ? _rankSeconds[o] : null);
        }
        return tasks;
    }

    /// <summary>
    /// The same DAG with each compute task's seconds multiplied by <paramref name="factor"/>(task) (stragglers, jitter);
    /// collectives keep their costs. A factor of 1 everywhere gives an identical graph.
    /// </summary>
    public IterationGraph WithComputeScaled(Func<IterationTask, double> factor)
    {
        var seconds = (double[])_seconds.Clone();
        var tasks = Tasks;
        for (var i = 0; i < seconds.Length; i++)
            if (Shape.KindOf[i] == TaskKind.Compute) seconds[i] *= factor(tasks[i]);
        return new IterationGraph(Shape, seconds, _specs, _rankSeconds, Embedding) { HostShare = HostShare };
    }

    public static IterationGraph Build(Cluster c, DlrmWorkload w, ShardingPlan plan, CostParameters p)
    {
        var world = c.WorldSize;
        var gpu = c.Gpu;
        var schedule = plan.EffectiveSchedule;
        var emb = EmbeddingWork.Of(c, w, plan);
        var localBatch = (double)emb.LocalBatch;

        var pooledFwd = emb.PooledBytes(w.Precision.AllToAllForward.Bytes());
        var pooledBwd = emb.GradientBytes(w.Precision.AllToAllBackward.Bytes());
        var arBytesPerParam = (double)w.Precision.AllReduce.Bytes();
        var ops = new OperatorCosts(gpu, p);
        var phase = ops.Fitted ? FittedPhases.Of(ops, c, w, plan, emb, p) : null;
        var denseFwd = phase?.Max(Phases.DenseForward) ?? DenseWork.ForwardSeconds(gpu, p, w, localBatch);
        var denseBwd = phase?.Max(Phases.DenseBackward) ?? DenseWork.BackwardSeconds(gpu, p, w, localBatch);
        var opt = phase?.Max(Phases.DenseOptimizer) ?? DenseWork.OptimizerSeconds(gpu, p, w.Optimizer, w.DenseParameters + emb.DataParallelParameters);
        // Every rank bucketises its indices by row range for each row-split table before the exchange.
        var Bucketise = phase?.Max(Phases.InputDistribution) ?? (world > 1 ? emb.RowSplitTables * p.RowSplitBucketiseSeconds : 0);
        var (lookupSeconds, backwardSeconds) = phase is null ? EmbeddingPhaseSeconds.Roofline(emb, c, p)
            : EmbeddingPhaseSeconds.Of(emb, c, p, phase.Of(Phases.EmbeddingLookup), phase.Of(Phases.EmbeddingBackward));

        var buckets = schedule.AllReduceBuckets;
        var denseBytes = w.DenseParameters * arBytesPerParam;
        var dpBytes = emb.DataParallelParameters * arBytesPerParam;
        var key = new ShapeKey(world, schedule.IsSequential, schedule.PipelineEmbeddings, buckets, dpBytes > 0);
        var b = new Builder(c, p, IterationShape.Cached(key));
        if (!schedule.IsSequential) b.AllowOverlap();
        if (schedule.PipelineEmbeddings)
        {
            // Steady state: this batch's pooled embeddings arrived last iteration; the next batch's input
            // distribution, lookup and forward all-to-all run beside this batch's dense compute.
            var inputNext = b.AllToAll(Phases.InputDistribution, emb.InputDistribution, [], Bucketise);
            b.Compute(Phases.DenseForward, denseFwd, []);
            var lookupNext = b.Compute(Phases.EmbeddingLookup, lookupSeconds, [inputNext]);
            b.AllToAll(Phases.AllToAllForward, pooledFwd, [lookupNext], phase?.Max(Phases.AllToAllForward) ?? 0);
        }
        else
        {
            var input = b.AllToAll(Phases.InputDistribution, emb.InputDistribution, [], Bucketise);
            var lookup = b.Compute(Phases.EmbeddingLookup, lookupSeconds, [input]);
            var a2a = b.AllToAll(Phases.AllToAllForward, pooledFwd, [lookup], phase?.Max(Phases.AllToAllForward) ?? 0);
            b.Compute(Phases.DenseForward, denseFwd, [a2a]);
        }

        if (buckets == 0)
        {
            var bwd = b.Compute(Phases.DenseBackward, denseBwd, []);
            var a2aBwd = b.AllToAll(Phases.AllToAllBackward, pooledBwd, [bwd], phase?.Max(Phases.AllToAllBackward) ?? 0);
            var embBwd = b.Compute(Phases.EmbeddingBackward, backwardSeconds, [a2aBwd]);
            var ar = b.AllReduce(Phases.AllReduce, denseBytes + dpBytes, [dpBytes > 0 ? embBwd : bwd], phase?.Max(Phases.AllReduce) ?? 0);
            b.Compute(Phases.DenseOptimizer, opt, [ar, embBwd]);
        }
        else
        {
            // Gradient buckets are all-reduced on their own stream as soon as each is computed (DDP).
            int chunk = -1, lastBucket = -1;
            for (var k = 0; k < buckets; k++)
            {
                chunk = b.Compute(Phases.DenseBackward, denseBwd / buckets, []);
                lastBucket = b.AllReduce(Phases.AllReduce, denseBytes / buckets, [chunk]);
            }
            var a2aBwd = b.AllToAll(Phases.AllToAllBackward, pooledBwd, [chunk], phase?.Max(Phases.AllToAllBackward) ?? 0);
            var embBwd = b.Compute(Phases.EmbeddingBackward, backwardSeconds, [a2aBwd]);
            if (dpBytes > 0) lastBucket = b.AllReduce(Phases.AllReduce, dpBytes, [embBwd]);
            b.Compute(Phases.DenseOptimizer, opt, [lastBucket]);
        }
        var shape = b.Shape(key);
        return new IterationGraph(shape, b.Seconds(), b.Specs.ToArray(), b.RankSeconds.ToArray(), emb) { HostShare = phase?.HostShare };
    }

    /// <summary>
    /// Appends tasks in topological order: records the structure (a <see cref="ShapeRecorder"/>) the first time a
    /// <see cref="ShapeKey"/> is seen, and only prices the blocks of the cached shape after that.
    /// </summary>
    private sealed class Builder(Cluster c, CostParameters p, IterationShape? cached)
    {
        private readonly int _world = c.WorldSize;
        private readonly ShapeRecorder? _recorder = cached is null ? new ShapeRecorder(c.WorldSize) : null;
        private double[] _seconds = new double[cached?.Count ?? 8 * c.WorldSize + 16];
        private int _next;
        public readonly List<CollectiveSpec> Specs = new(8);
        public readonly List<double[]> RankSeconds = new(8);

        /// <summary>Per-rank compute tasks of rank r's seconds[r]; returns the id of rank 0's task (ids of rank r are that + r).</summary>
        public int Compute(string phase, double[] seconds, int[] extraDeps)
        {
            var first = Next(phase, TaskKind.Compute, _world);
            _recorder?.Compute(phase, extraDeps);
            var correction = p.CorrectionOf(phase);
            for (var r = 0; r < _world; r++) _seconds[first + r] = correction.Apply(seconds[r]);
            return first;
        }

        /// <summary>Per-rank compute tasks that take the same seconds on every rank (the dense phases).</summary>
        public int Compute(string phase, double seconds, int[] extraDeps)
        {
            var first = Next(phase, TaskKind.Compute, _world);
            _recorder?.Compute(phase, extraDeps);
            Array.Fill(_seconds, p.CorrectionOf(phase).Apply(seconds), first, _world);
            return first;
        }

        public int AllToAll(string phase, AllToAllDemand demand, int[] extraDeps, double hostSeconds = 0)
        {
            var perRank = CollectiveCost.AllToAllPerRank(c, p, demand);
            for (var r = 0; r < perRank.Length; r++) perRank[r] += hostSeconds;
            return Collective(phase, StreamKind.AllToAll, new CollectiveSpec(CollectiveKind.AllToAll, demand, 0, hostSeconds), perRank, extraDeps);
        }

        public int AllReduce(string phase, double bytes, int[] extraDeps, double hostSeconds = 0)
        {
            // Every rank takes the same time; gradient buckets of one size share one array (a graph's arrays are read-only).
            var seconds = p.CorrectionOf(phase).Apply(CollectiveCost.AllReduceSeconds(c, p, bytes) + hostSeconds);
            if (_lastAllReduce is not { } perRank || perRank[0] != seconds)
            {
                perRank = _lastAllReduce = new double[_world];
                Array.Fill(perRank, seconds);
            }
            return Add(phase, StreamKind.AllReduce, new CollectiveSpec(CollectiveKind.AllReduce, null, bytes, hostSeconds), perRank, Math.Max(0, seconds), extraDeps);
        }

        private double[]? _lastAllReduce;

        private int Collective(string phase, StreamKind stream, CollectiveSpec spec, double[] perRank, int[] extraDeps)
        {
            var correction = p.CorrectionOf(phase);
            double max = 0;
            for (var r = 0; r < perRank.Length; r++) max = Math.Max(max, perRank[r] = correction.Apply(perRank[r]));
            return Add(phase, stream, spec, perRank, max, extraDeps);
        }

        /// <summary>A collective task with its corrected per-rank seconds and their maximum (at least 0).</summary>
        private int Add(string phase, StreamKind stream, CollectiveSpec spec, double[] perRank, double max, int[] extraDeps)
        {
            var id = Next(phase, TaskKind.Collective, 1);
            _recorder?.Collective(phase, stream, extraDeps);
            _seconds[id] = max;
            Specs.Add(spec);
            RankSeconds.Add(perRank);
            return id;
        }

        /// <summary>Reserves the next <paramref name="count"/> task ids; on a cached shape, checks they are the block it expects.</summary>
        private int Next(string phase, TaskKind kind, int count)
        {
            var first = _next;
            _next += count;
            if (cached is not null)
            {
                if (_next > cached.Count || cached.PhaseOf[first] != phase || cached.KindOf[first] != kind)
                    throw new InvalidOperationException($"iteration shape mismatch at task {first} ({phase}): the shape key misses a structural input");
            }
            else if (_next > _seconds.Length) Array.Resize(ref _seconds, Math.Max(_next, 2 * _seconds.Length));
            return first;
        }

        /// <summary>Called once the schedule says streams may overlap.</summary>
        public void AllowOverlap() => _recorder?.AllowOverlap();

        public double[] Seconds() => _seconds.Length == _next ? _seconds : _seconds[.._next];

        public IterationShape Shape(ShapeKey key)
        {
            if (cached is not null)
            {
                if (_next != cached.Count) throw new InvalidOperationException($"iteration shape mismatch: {_next} tasks priced, the shape has {cached.Count}");
                return cached;
            }
            var shape = _recorder!.Build();
            IterationShape.Remember(key, shape);
            return shape;
        }
    }
}
