using Sim.Accounting;
using Sim.Cost;
using Sim.Iterations;
using Sim.Sharding;
using Sim.Workload;

namespace Sim.Tests;

/// <summary>
/// A graph is a cached shape plus one configuration's seconds, and the analytical timeline runs block by block: both
/// must give exactly what the task-by-task DAG gives.
/// </summary>
public class IterationShapeTests
{
    private const string MixedPlan = "tables: {a: {scheme: row_wise, ranks: [0, 1, 2, 3, 4, 5, 6, 7]}, b: {scheme: table_wise, ranks: [5]}, c: {scheme: data_parallel}, d: {scheme: column_wise, ranks: [2, 6]}}";

    private static readonly Schedule?[] Schedules = [null, new Schedule(0, PipelineEmbeddings: false), new Schedule(4, PipelineEmbeddings: true), new Schedule(3, PipelineEmbeddings: false)];

    /// <summary>The longest path task by task, from the materialised tasks: every task starts when its last dependency (as its rank sees it) is done.</summary>
    private static (double[] Start, double[] Finish) TaskByTask(IterationGraph g)
    {
        var tasks = g.Tasks;
        var start = new double[tasks.Count];
        var finish = new double[tasks.Count];
        var rankFinish = new double[]?[tasks.Count];
        foreach (var t in tasks)
        {
            var rank = t.Kind == TaskKind.Compute ? t.Rank : -1;
            foreach (var d in t.Dependencies)
                start[t.Id] = Math.Max(start[t.Id], rank >= 0 && rankFinish[d] is { } rf ? rf[rank] : finish[d]);
            if (t.PerRankSeconds is { } per)
            {
                rankFinish[t.Id] = per.Select(x => start[t.Id] + x).ToArray();
                finish[t.Id] = rankFinish[t.Id]!.Max();
            }
            else finish[t.Id] = start[t.Id] + t.Seconds;
        }
        return (start, finish);
    }

    [Fact]
    public void Block_by_block_timeline_equals_the_task_by_task_longest_path_for_every_schedule()
    {
        var w = Fixtures.Workload();
        foreach (var (nodes, gpus) in new[] { (1, 1), (1, 4), (2, 4), (4, 2) })
        {
            var c = Fixtures.Cluster(nodes, gpus);
            var plans = new List<ShardingPlan> { Fixtures.Greedy(c, w) };
            if (c.WorldSize == 8) plans.Add(Fixtures.Plan(MixedPlan, w, c)); // data-parallel table: one more all-reduce
            foreach (var basePlan in plans)
                foreach (var schedule in Schedules)
                {
                    var g = IterationGraph.Build(c, w, basePlan with { Schedule = schedule }, CostParameters.Default);
                    var t = Timeline.Analytical(g);
                    var (start, finish) = TaskByTask(g);
                    Assert.Equal(start, t.Start);
                    Assert.Equal(finish, t.Finish);
                    for (var i = 0; i < g.Count; i++)
                        for (var r = 0; r < c.WorldSize; r++)
                            Assert.Equal(g.Tasks[i].PerRankSeconds is { } per ? start[i] + per[r] : finish[i], t.FinishFor(i, g.Tasks[i].Kind == TaskKind.Compute ? g.Tasks[i].Rank : r));
                }
        }
    }

    [Fact]
    public void A_cached_shape_priced_again_equals_a_shape_recorded_afresh()
    {
        var w = Fixtures.Workload() with { GlobalBatchSize = 9 * 1024 };
        var c = Fixtures.Cluster(3, 3); // a world no other test uses
        var plan = Fixtures.Greedy(c, w) with { Schedule = new Schedule(4, PipelineEmbeddings: true) };
        var first = IterationGraph.Build(c, w, plan, CostParameters.Default);
        // A different configuration of the same shape (faster NICs, a bigger batch) prices the cached shape...
        var faster = Fixtures.Cluster(3, 3, nic: 100e9);
        var bigger = w with { GlobalBatchSize = 2 * w.GlobalBatchSize };
        var priced = IterationGraph.Build(faster, bigger, plan, CostParameters.Default);
        Assert.Same(first.Shape, priced.Shape);
        // ...and equals the graph recorded with no shape cached.
        IterationShape.ForgetCached();
        var fresh = IterationGraph.Build(faster, bigger, plan, CostParameters.Default);
        Assert.NotSame(first.Shape, fresh.Shape);
        Assert.Equal(fresh.Tasks, priced.Tasks, (a, b) => a.Id == b.Id && a.Phase == b.Phase && a.Kind == b.Kind && a.Stream == b.Stream
            && a.Rank == b.Rank && a.Seconds == b.Seconds && a.Dependencies.SequenceEqual(b.Dependencies)
            && (a.PerRankSeconds ?? []).SequenceEqual(b.PerRankSeconds ?? []));
        Assert.NotEqual(first.Tasks.Select(t => t.Seconds), priced.Tasks.Select(t => t.Seconds));
    }

    [Fact]
    public void Shapes_differ_where_the_structure_does()
    {
        var w = Fixtures.Workload();
        var c = Fixtures.Cluster(2, 4);
        var plan = Fixtures.Greedy(c, w);
        // No schedule is the sequential one: the same shape; every other schedule has its own.
        var shapes = Schedules.Select(s => IterationGraph.Build(c, w, plan with { Schedule = s }, CostParameters.Default).Shape).ToList();
        Assert.Same(shapes[0], shapes[1]);
        Assert.Equal(shapes.Count - 1, shapes.Distinct().Count());
        // The structure follows the world size, not how it splits into nodes.
        var oneNode = Fixtures.Cluster(1, 8);
        Assert.Same(shapes[0], IterationGraph.Build(oneNode, w, Fixtures.Greedy(oneNode, w), CostParameters.Default).Shape);
        var four = Fixtures.Cluster(1, 4);
        Assert.NotSame(shapes[0], IterationGraph.Build(four, w, Fixtures.Greedy(four, w), CostParameters.Default).Shape);
    }

    [Fact]
    public void Embedding_work_and_memory_are_shared_per_plan_but_follow_every_input_they_read()
    {
        var w = Fixtures.Workload();
        var c = Fixtures.Cluster(2, 4);
        var plan = Fixtures.Plan(MixedPlan, w, c);
        Assert.Same(EmbeddingWork.Of(c, w, plan), EmbeddingWork.Of(c, w, plan with { Schedule = new Schedule(2, true) }));
        Assert.Same(MemoryModel.PerRank(c, w, plan), MemoryModel.PerRank(c, w, plan with { Schedule = new Schedule(2, true) }));
        var variants = new[]
        {
            w with { GlobalBatchSize = 2 * w.GlobalBatchSize },
            w with { Optimizer = w.Optimizer == Optimizer.Sgd ? Optimizer.RowWiseAdagrad : Optimizer.Sgd },
            w with { Precision = w.Precision with { Index = w.Precision.Index == Hardware.DType.Int64 ? Hardware.DType.Int32 : Hardware.DType.Int64 } },
            w with { TopMlp = [.. w.TopMlp, 64] },
        };
        foreach (var v in variants)
        {
            var fresh = EmbeddingWork.Compute(c, v, plan);
            var memo = EmbeddingWork.Of(c, v, plan);
            Assert.Equal(fresh.ForwardBytes, memo.ForwardBytes);
            Assert.Equal(fresh.BackwardBytes, memo.BackwardBytes);
            Assert.Equal(fresh.InputDistribution.FromEachPeer, memo.InputDistribution.FromEachPeer);
            Assert.Equal(fresh.PooledElements.ToEachPeer, memo.PooledElements.ToEachPeer);
            Assert.Equal(MemoryModel.PerRank(c, v, plan with { Tables = plan.Tables.ToList() }), MemoryModel.PerRank(c, v, plan));
        }
        Assert.NotEqual(MemoryModel.PerRank(c, w, plan), MemoryModel.PerRank(c, variants[3], plan)); // dense layers change the dense bytes
    }

    [Fact]
    public void Embedding_phase_seconds_are_shared_per_plan_but_follow_the_gpu_the_host_and_the_costs()
    {
        var w = Fixtures.Workload();
        var c = Fixtures.Cluster(2, 4);
        var plan = Fixtures.Plan(MixedPlan, w, c);
        var emb = EmbeddingWork.Of(c, w, plan);
        var p = CostParameters.Default;
        Assert.Same(EmbeddingPhaseSeconds.Roofline(emb, c, p).Lookup, EmbeddingPhaseSeconds.Roofline(emb, c, p).Lookup);
        foreach (var (cluster, cost) in new[]
        {
            (c with { Gpu = c.Gpu with { HbmBytesPerSecond = c.Gpu.HbmBytesPerSecond / 2 } }, p),
            (c with { Host = c.Host with { DdrBytesPerSecond = c.Host.DdrBytesPerSecond / 2 } }, p),
            (c, p with { EmbeddingEfficiency = p.EmbeddingEfficiency / 2, EmbeddingBackwardEfficiency = p.EmbeddingBackwardEfficiency / 2 }),
        })
        {
            var remembered = EmbeddingPhaseSeconds.Roofline(emb, cluster, cost);
            var fresh = EmbeddingPhaseSeconds.Of(emb, cluster, cost, null, null);
            Assert.Equal(fresh.Lookup, remembered.Lookup);
            Assert.Equal(fresh.Backward, remembered.Backward);
        }
        Assert.NotEqual(EmbeddingPhaseSeconds.Roofline(emb, c, p).Lookup, EmbeddingPhaseSeconds.Roofline(emb, c with { Gpu = c.Gpu with { HbmBytesPerSecond = c.Gpu.HbmBytesPerSecond / 2 } }, p).Lookup);
    }
}
