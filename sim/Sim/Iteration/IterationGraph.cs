using Sim.Collectives;
using Sim.Cost;
using Sim.Cost.Operators;
using Sim.Sharding;
using Sim.Topology;
using Sim.Hardware;
using Sim.Workload;

namespace Sim.Iterations;

/// <summary>
/// The per-rank task DAG of one iteration, built once from (Cluster, Workload, Plan) with task costs from
/// the analytical models. The analytical predictor takes its longest path; the event engine replays it with
/// flows on the network. The plan's <see cref="Schedule"/> decides what overlaps.
/// </summary>
public sealed class IterationGraph
{
    public IReadOnlyList<IterationTask> Tasks { get; }
    public int World { get; }
    public EmbeddingWork Embedding { get; }
    /// <summary>With fitted operator models, the largest share of a rank's step spent issuing on the host (null: no host model).</summary>
    public double? HostShare { get; private init; }

    private IterationGraph(IReadOnlyList<IterationTask> tasks, int world, EmbeddingWork embedding)
    {
        Tasks = tasks; World = world; Embedding = embedding;
    }

    /// <summary>
    /// The same DAG with each compute task's seconds multiplied by <paramref name="factor"/>(task) (stragglers, jitter);
    /// collectives keep their costs. A factor of 1 everywhere gives an identical graph.
    /// </summary>
    public IterationGraph WithComputeScaled(Func<IterationTask, double> factor) =>
        new(Tasks.Select(t => t.Kind == TaskKind.Compute ? t with { Seconds = t.Seconds * factor(t) } : t).ToArray(), World, Embedding) { HostShare = HostShare };

    public static IterationGraph Build(Cluster c, DlrmWorkload w, ShardingPlan plan, CostParameters p)
    {
        var b = new Builder(c, p);
        var world = c.WorldSize;
        var gpu = c.Gpu;
        var schedule = plan.EffectiveSchedule;
        var emb = EmbeddingWork.Compute(c, w, plan);
        var localBatch = (double)emb.LocalBatch;

        var pooledFwd = emb.PooledElements.Scaled(w.Precision.AllToAllForward.Bytes());
        var pooledBwd = emb.PooledElements.Transposed(w.Precision.AllToAllBackward.Bytes());
        var arBytesPerParam = (double)w.Precision.AllReduce.Bytes();
        var ops = new OperatorCosts(gpu, p);
        var phase = ops.Fitted ? FittedPhases.Of(ops, c, w, plan, emb, p) : null;
        var denseFwd = phase?.Max(Phases.DenseForward) ?? DenseWork.ForwardSeconds(gpu, p, w, localBatch);
        var denseBwd = phase?.Max(Phases.DenseBackward) ?? DenseWork.BackwardSeconds(gpu, p, w, localBatch);
        var opt = phase?.Max(Phases.DenseOptimizer) ?? DenseWork.OptimizerSeconds(gpu, p, w.Optimizer, w.DenseParameters + emb.DataParallelParameters);
        // Every rank bucketises its indices by row range for each row-split table before the exchange.
        var Bucketise = phase?.Max(Phases.InputDistribution) ?? (world > 1 ? emb.RowSplitTables * p.RowSplitBucketiseSeconds : 0);
        var lookupOf = phase?.Of(Phases.EmbeddingLookup);
        var backwardOf = phase?.Of(Phases.EmbeddingBackward);
        // Host-memory (UVM, SSD caches) and SSD traffic add to the GPU's own work, fitted or roofline: the GPU waits on them.
        double Lookup(int r) => (lookupOf?[r] ?? ComputeCost.EmbeddingSeconds(gpu, p, emb.ForwardBytes[r], emb.Kernels[r]))
            + ComputeCost.UvmSeconds(c, p, emb.HostForwardBytes[r]) + ComputeCost.SsdReadSeconds(c, emb.SsdReadBytes[r]);
        double EmbBackward(int r) => (backwardOf?[r] ?? ComputeCost.EmbeddingBackwardSeconds(gpu, p, emb.BackwardBytes[r], emb.SparseShards[r]))
            + ComputeCost.UvmSeconds(c, p, emb.HostBackwardBytes[r]) + ComputeCost.SsdWriteSeconds(c, emb.SsdWriteBytes[r]);

        if (!schedule.IsSequential) b.AllowOverlap();
        if (schedule.PipelineEmbeddings)
        {
            // Steady state: this batch's pooled embeddings arrived last iteration; the next batch's input
            // distribution, lookup and forward all-to-all run beside this batch's dense compute.
            var inputNext = b.AllToAll(Phases.InputDistribution, emb.InputDistribution, [], Bucketise);
            b.Compute(Phases.DenseForward, _ => denseFwd, []);
            var lookupNext = b.Compute(Phases.EmbeddingLookup, Lookup, [inputNext]);
            b.AllToAll(Phases.AllToAllForward, pooledFwd, [lookupNext], phase?.Max(Phases.AllToAllForward) ?? 0);
        }
        else
        {
            var input = b.AllToAll(Phases.InputDistribution, emb.InputDistribution, [], Bucketise);
            var lookup = b.Compute(Phases.EmbeddingLookup, Lookup, [input]);
            var a2a = b.AllToAll(Phases.AllToAllForward, pooledFwd, [lookup], phase?.Max(Phases.AllToAllForward) ?? 0);
            b.Compute(Phases.DenseForward, _ => denseFwd, [a2a]);
        }

        var buckets = schedule.AllReduceBuckets;
        var denseBytes = w.DenseParameters * arBytesPerParam;
        var dpBytes = emb.DataParallelParameters * arBytesPerParam;
        if (buckets == 0)
        {
            var bwd = b.Compute(Phases.DenseBackward, _ => denseBwd, []);
            var a2aBwd = b.AllToAll(Phases.AllToAllBackward, pooledBwd, [bwd], phase?.Max(Phases.AllToAllBackward) ?? 0);
            var embBwd = b.Compute(Phases.EmbeddingBackward, EmbBackward, [a2aBwd]);
            var ar = b.AllReduce(Phases.AllReduce, denseBytes + dpBytes, [dpBytes > 0 ? embBwd : bwd], phase?.Max(Phases.AllReduce) ?? 0);
            b.Compute(Phases.DenseOptimizer, _ => opt, [ar, embBwd]);
        }
        else
        {
            // Gradient buckets are all-reduced on their own stream as soon as each is computed (DDP).
            int chunk = -1, lastBucket = -1;
            for (var k = 0; k < buckets; k++)
            {
                chunk = b.Compute(Phases.DenseBackward, _ => denseBwd / buckets, []);
                lastBucket = b.AllReduce(Phases.AllReduce, denseBytes / buckets, [chunk]);
            }
            var a2aBwd = b.AllToAll(Phases.AllToAllBackward, pooledBwd, [chunk], phase?.Max(Phases.AllToAllBackward) ?? 0);
            var embBwd = b.Compute(Phases.EmbeddingBackward, EmbBackward, [a2aBwd]);
            if (dpBytes > 0) lastBucket = b.AllReduce(Phases.AllReduce, dpBytes, [embBwd]);
            b.Compute(Phases.DenseOptimizer, _ => opt, [lastBucket]);
        }
        return new IterationGraph(b.Tasks, world, emb) { HostShare = phase?.HostShare };
    }

    /// <summary>
    /// Appends tasks in topological order. A task depends on the previous task of its own stream on each
    /// rank; with a sequential schedule every task also depends on the previous task of any stream, so the
    /// iteration is one chain per rank. Extra dependencies are passed explicitly.
    /// </summary>
    private sealed class Builder(Cluster c, CostParameters p)
    {
        public readonly List<IterationTask> Tasks = new(8 * c.WorldSize + 16); // about 6 compute tasks per rank
        private readonly int _world = c.WorldSize;
        private readonly Dictionary<StreamKind, int[]> _lastOnStream = new();
        // A compute task id per rank, or one collective id for all ranks: the last task any stream issued.
        private readonly int[] _lastAny = Enumerable.Repeat(-1, c.WorldSize).ToArray();
        private bool _sequential = true;

        private int[] Last(StreamKind s) => _lastOnStream.TryGetValue(s, out var a) ? a : _lastOnStream[s] = Enumerable.Repeat(-1, _world).ToArray();

        /// <summary>Per-rank compute tasks; returns the id of rank 0's task (ids of rank r are that + r).</summary>
        public int Compute(string phase, Func<int, double> seconds, int[] extraDeps)
        {
            var last = Last(StreamKind.Compute);
            var first = Tasks.Count;
            var correction = p.CorrectionOf(phase);
            Span<int> deps = stackalloc int[2 + extraDeps.Length];
            for (var r = 0; r < _world; r++)
            {
                // A handful of dependencies per task: a sorted, duplicate-free array, built in place.
                var n = 0;
                if (last[r] >= 0) deps[n++] = last[r];
                if (_sequential && _lastAny[r] >= 0) deps[n++] = _lastAny[r];
                foreach (var d in extraDeps) if (d >= 0) deps[n++] = Tasks[d].Kind == TaskKind.Compute ? d + r - Tasks[d].Rank : d;
                deps[..n].Sort();
                var unique = 0;
                for (var i = 0; i < n; i++) if (unique == 0 || deps[unique - 1] != deps[i]) deps[unique++] = deps[i];
                Tasks.Add(new IterationTask(first + r, phase, TaskKind.Compute, StreamKind.Compute, r, correction.Apply(seconds(r)), deps[..unique].ToArray()));
                last[r] = first + r;
                _lastAny[r] = first + r;
            }
            return first;
        }

        public int AllToAll(string phase, AllToAllDemand demand, int[] extraDeps, double hostSeconds = 0) =>
            Collective(phase, StreamKind.AllToAll, new CollectiveSpec(CollectiveKind.AllToAll, demand, 0, hostSeconds),
                CollectiveCost.AllToAllPerRank(c, p, demand).Select(x => x + hostSeconds).ToArray(), extraDeps);

        public int AllReduce(string phase, double bytes, int[] extraDeps, double hostSeconds = 0)
        {
            var t = CollectiveCost.AllReduceSeconds(c, p, bytes) + hostSeconds;
            return Collective(phase, StreamKind.AllReduce, new CollectiveSpec(CollectiveKind.AllReduce, null, bytes, hostSeconds),
                Enumerable.Repeat(t, _world).ToArray(), extraDeps);
        }

        private int Collective(string phase, StreamKind stream, CollectiveSpec spec, double[] perRank, int[] extraDeps)
        {
            var id = Tasks.Count;
            var deps = new List<int>(2 * _world + extraDeps.Length);
            foreach (var d in Last(stream)) if (d >= 0) deps.Add(d);
            if (_sequential) foreach (var d in _lastAny) if (d >= 0) deps.Add(d);
            foreach (var d in extraDeps)
            {
                if (d < 0) continue;
                if (Tasks[d].Kind == TaskKind.Compute)
                    for (var r = 0; r < _world; r++) deps.Add(d + r - Tasks[d].Rank); // every rank's task of that phase
                else deps.Add(d);
            }
            deps.Sort();
            var unique = new List<int>(deps.Count);
            foreach (var d in deps) if (unique.Count == 0 || unique[^1] != d) unique.Add(d);
            var correction = p.CorrectionOf(phase);
            var corrected = new double[perRank.Length];
            double max = 0;
            for (var r = 0; r < perRank.Length; r++) max = Math.Max(max, corrected[r] = correction.Apply(perRank[r]));
            Tasks.Add(new IterationTask(id, phase, TaskKind.Collective, stream, -1, max, unique.ToArray(), spec, corrected));
            Array.Fill(Last(stream), id);
            Array.Fill(_lastAny, id);
            return id;
        }

        /// <summary>Called once the schedule says streams may overlap.</summary>
        public void AllowOverlap() => _sequential = false;
    }
}
