using Sim.Harness.Backends;
using Sim.Harness.Training;
using Sim.Sharding;
using TorchSharp;
using static TorchSharp.torch;
using Sim.Workload;

namespace Sim.Harness.Tests;

/// <summary>
/// A sharded training run on W CPU ranks must equal the unsharded single-rank model from the same seed: the same
/// loss, and after the update the same tables (every row and column, however they are split) and the same dense
/// weights on every rank. Tolerance: relative error (max-norm of the difference over max-norm of the reference,
/// per tensor) at most 1e-5; only the order of floating-point sums differs. Every case runs on both embedding stacks
/// (eager: sparse autograd gradients and a sparse optimizer step; fused: the harness's fused backward).
/// </summary>
public class ShardedEquivalenceTests
{
    private const double Tolerance = 1e-5;
    private const long Seed = 7;
    private const double Lr = 0.05;
    private const int Steps = 2;

    private static readonly string[] RowScopedSchemes = ["table_wise", "row_wise", "data_parallel", "mixed"];

    public static TheoryData<string, int, string> AdagradCases()
    {
        var d = new TheoryData<string, int, string>();
        foreach (var stack in EmbeddingStacks.Names)
            foreach (var w in new[] { 2, 4 })
                foreach (var s in RowScopedSchemes)
                    d.Add(s, w, stack);
        return d;
    }

    /// <summary>SGD: every scheme, column-wise and the mix of all included.</summary>
    public static TheoryData<string, int, string> SgdCases()
    {
        var d = new TheoryData<string, int, string>();
        foreach (var stack in EmbeddingStacks.Names)
            foreach (var w in new[] { 2, 4 })
                foreach (var s in RowScopedSchemes.Append("column_wise").Append("mixed_all"))
                    d.Add(s, w, stack);
        return d;
    }

    /// <summary>Row-wise Adagrad (the optimizer TorchRec/FBGEMM use) for every scheme that keeps whole rows on one rank.</summary>
    [Theory]
    [MemberData(nameof(AdagradCases))]
    public void ShardedStepEqualsUnshardedStep_RowWiseAdagrad(string scheme, int world, string stack) => Check(scheme, world, "rowwise_adagrad", stack);

    /// <summary>
    /// Column-wise sharding with SGD: row-wise Adagrad keeps one accumulator per row of each column shard (the mean
    /// of g² over the shard's columns only), so its update legitimately differs from the unsharded one, as in
    /// TorchRec; SGD has no such state, so column-wise shards must match exactly.
    /// </summary>
    [Theory]
    [MemberData(nameof(SgdCases))]
    public void ShardedStepEqualsUnshardedStep_Sgd(string scheme, int world, string stack) => Check(scheme, world, "sgd", stack);

    /// <summary>
    /// --optimizer replaces the workload's optimizer: a workload that says SGD, trained with row-wise Adagrad, equals
    /// the unsharded row-wise Adagrad reference.
    /// </summary>
    [Theory]
    [InlineData("eager")]
    [InlineData("fused")]
    public void OptimizerOverrideReplacesTheWorkloads(string stack) => Check("mixed", 4, "rowwise_adagrad", stack, workloadOptimizer: "sgd");

    private static void Check(string scheme, int world, string optimizer, string stack, string? workloadOptimizer = null)
    {
        var loaded = TestScenarios.Load(TestScenarios.Topology(world), TestScenarios.Workload(workloadOptimizer ?? optimizer), TestScenarios.PlanFor(scheme, world));
        var opt = Workload.Optimizers.Words[optimizer];
        var w = loaded.Workload with { Optimizer = opt };
        var scenario = loaded;
        var options = new RunOptions(Steps, 0, Seed, Lr, EmbeddingStacks.Parse(stack, "stack"), opt);

        // Sharded: W CPU ranks; after the last step every rank hands over copies of what it holds.
        var blocks = new List<(int Table, Shard Shard, Tensor Weight)>();
        var dense = new Tensor[world][];
        var gate = new object();
        var outcome = TrainingRun.Execute(scenario, new CpuBackend(), options, inspect: t =>
        {
            var mine = t.Blocks.Select(x => (x.Table, x.Shard, x.Block.Weight.detach().clone().DetachFromDisposeScope())).ToList();
            var d = t.Dense.Parameters.Select(p => p.detach().clone().DetachFromDisposeScope()).ToArray();
            lock (gate)
            {
                blocks.AddRange(mine);
                dense[t.Rank] = d;
            }
        });
        Assert.Null(outcome.Failure);

        using var reference = new ReferenceModel(w, world, Seed, Lr);
        for (var i = 0; i < Steps; i++) reference.Step(i);

        for (var i = 0; i < Steps; i++)
            Assert.True(RelErr(outcome.Losses[i], reference.Losses[i]) <= Tolerance,
                $"{stack} {scheme} W={world} step {i}: loss {outcome.Losses[i]} vs unsharded {reference.Losses[i]}");

        for (var t = 0; t < w.Tables.Count; t++)
        {
            var table = w.Tables[t];
            var tp = scenario.Plan.Tables[t];
            var mine = blocks.Where(b => b.Table == t).ToList();
            Assert.Equal(tp.Shards.Count, mine.Count);
            if (tp.Scheme == ShardingScheme.DataParallel)
            {
                foreach (var (_, shard, weight) in mine)
                    AssertClose(weight, reference.Tables[t], $"{stack} {scheme} W={world}: replica of '{table.Name}' on rank {shard.Rank}");
                continue;
            }
            // Reassemble the table from its shards; every element must be covered exactly once.
            using var full = torch.full(table.Rows, table.Dim, float.NaN, dtype: ScalarType.Float32);
            foreach (var (_, s, weight) in mine)
                full.narrow(0, s.RowOffset, s.Rows).narrow(1, s.ColumnOffset, s.Columns).copy_(weight);
            Assert.False(full.isnan().any().item<bool>(), $"{stack} {scheme} W={world}: table '{table.Name}' is not covered by its shards");
            AssertClose(full, reference.Tables[t], $"{stack} {scheme} W={world}: table '{table.Name}'");
        }

        for (var r = 0; r < world; r++)
            for (var i = 0; i < reference.Dense.Parameters.Count; i++)
                AssertClose(dense[r][i], reference.Dense.Parameters[i], $"{stack} {scheme} W={world}: dense parameter {i} on rank {r}");

        // The replicas did not only stay close to the reference; they are bit-identical to each other.
        for (var r = 1; r < world; r++)
            for (var i = 0; i < dense[0].Length; i++)
                Assert.True(dense[r][i].eq(dense[0][i]).all().item<bool>(), $"dense parameter {i} differs between rank 0 and rank {r}");

        foreach (var b in blocks) b.Weight.Dispose();
        foreach (var d in dense) foreach (var p in d) p.Dispose();
    }

    private static double RelErr(double a, double b) => Math.Abs(a - b) / Math.Max(Math.Abs(b), 1e-30);

    private static void AssertClose(Tensor actual, Tensor expected, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var diff = actual.sub(expected).abs().max();
        using var scale = expected.abs().max();
        var err = diff.item<float>() / Math.Max(scale.item<float>(), 1e-30);
        Assert.True(err <= Tolerance, $"{what}: relative error {err:E2} > {Tolerance:E0}");
    }
}
