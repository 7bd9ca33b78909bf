using Sim.Collectives;
using Sim.Cost;
using Sim.Sharding;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Engine;

/// <summary>
/// The per-rank task DAG of one iteration, built once from (Cluster, Workload, Plan) with task costs from
/// the analytical models. The analytical predictor takes its critical path; the event engine replays it.
/// </summary>
public sealed class IterationGraph
{
    public IReadOnlyList<IterationTask> Tasks { get; }
    public int World { get; }
    public EmbeddingWork Embedding { get; }

    private IterationGraph(IReadOnlyList<IterationTask> tasks, int world, EmbeddingWork embedding)
    {
        Tasks = tasks; World = world; Embedding = embedding;
    }

    public static IterationGraph Build(Cluster c, DlrmWorkload w, ShardingPlan plan, CostParameters p)
    {
        var world = c.WorldSize;
        var gpu = c.Gpu;
        var emb = EmbeddingWork.Compute(c, w, plan);
        var b = (double)emb.LocalBatch;
        var tasks = new List<IterationTask>();
        var last = new int[world];
        Array.Fill(last, -1);

        void Compute(string phase, Func<int, double> seconds)
        {
            for (var r = 0; r < world; r++)
            {
                var id = tasks.Count;
                tasks.Add(new IterationTask(id, phase, TaskKind.Compute, r, seconds(r), last[r] >= 0 ? [last[r]] : []));
                last[r] = id;
            }
        }

        void Collective(string phase, CollectiveSpec spec, double[] perRank)
        {
            var id = tasks.Count;
            var deps = last.Where(d => d >= 0).Distinct().ToArray();
            tasks.Add(new IterationTask(id, phase, TaskKind.Collective, -1, perRank.DefaultIfEmpty(0).Max(), deps, spec, perRank));
            Array.Fill(last, id);
        }

        double[] AllToAll(AllToAllDemand d) => CollectiveModel.AllToAllPerRank(c, p, d);

        var pooledFwd = emb.PooledElements.Scaled(w.Precision.AllToAllForward.Bytes());
        var pooledBwd = emb.PooledElements.Transposed(w.Precision.AllToAllBackward.Bytes());
        var allReduceBytes = (w.DenseParameters + emb.DataParallelParameters) * w.Precision.AllReduce.Bytes();
        var allReduceSeconds = CollectiveModel.AllReduceSeconds(c, p, allReduceBytes);

        Collective(Phases.InputDistribution, new CollectiveSpec(CollectiveKind.AllToAll, emb.InputDistribution, 0), AllToAll(emb.InputDistribution));
        Compute(Phases.EmbeddingLookup, r => ComputeCost.EmbeddingSeconds(gpu, p, emb.ForwardBytes[r], emb.Kernels[r]));
        Collective(Phases.AllToAllForward, new CollectiveSpec(CollectiveKind.AllToAll, pooledFwd, 0), AllToAll(pooledFwd));
        var fwd = DenseWork.ForwardSeconds(gpu, p, w, b);
        Compute(Phases.DenseForward, _ => fwd);
        var bwd = DenseWork.BackwardSeconds(gpu, p, w, b);
        Compute(Phases.DenseBackward, _ => bwd);
        Collective(Phases.AllToAllBackward, new CollectiveSpec(CollectiveKind.AllToAll, pooledBwd, 0), AllToAll(pooledBwd));
        Compute(Phases.EmbeddingBackward, r => ComputeCost.EmbeddingSeconds(gpu, p, emb.BackwardBytes[r], emb.Kernels[r]));
        Collective(Phases.AllReduce, new CollectiveSpec(CollectiveKind.AllReduce, null, allReduceBytes), Enumerable.Repeat(allReduceSeconds, world).ToArray());
        var opt = DenseWork.OptimizerSeconds(gpu, p, w.Optimizer, w.DenseParameters + emb.DataParallelParameters);
        Compute(Phases.DenseOptimizer, _ => opt);
        return new IterationGraph(tasks, world, emb);
    }
}
