using Sim.Harness.Backends;
using Sim.Harness.Training;
using Sim.Sharding;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.Harness.Tests;

/// <summary>
/// A sharded training run on W CPU ranks must equal the unsharded single-rank model from the same seed: the same
/// loss, and after the update the same tables (every row and column, however they are split) and the same dense
/// weights on every rank. Tolerance: relative error (max-norm of the difference over max-norm of the reference,
/// per tensor) at most 1e-5; only the order of floating-point sums differs.
/// </summary>
public class ShardedEquivalenceTests
{
    private const double Tolerance = 1e-5;
    private const long Seed = 7;
    private const double Lr = 0.05;
    private const int Steps = 2;

    public static TheoryData<string, int> AdagradCases()
    {
        var d = new TheoryData<string, int>();
        foreach (var w in new[] { 2, 4 })
            foreach (var s in new[] { "table_wise", "row_wise", "data_parallel", "mixed" })
                d.Add(s, w);
        return d;
    }

    /// <summary>Row-wise Adagrad (the optimizer TorchRec/FBGEMM use) for every scheme that keeps whole rows on one rank.</summary>
    [Theory]
    [MemberData(nameof(AdagradCases))]
    public void ShardedStepEqualsUnshardedStep_RowWiseAdagrad(string scheme, int world) => Check(scheme, world, "rowwise_adagrad");

    /// <summary>
    /// Column-wise sharding with SGD: row-wise Adagrad keeps one accumulator per row of each column shard (the mean
    /// of g² over the shard's columns only), so its update legitimately differs from the unsharded one, as in
    /// TorchRec; SGD has no such state, so column-wise shards must match exactly.
    /// </summary>
    [Theory]
    [InlineData("column_wise", 2)]
    [InlineData("column_wise", 4)]
    [InlineData("mixed_all", 2)]
    [InlineData("mixed_all", 4)]
    public void ShardedStepEqualsUnshardedStep_Sgd(string scheme, int world) => Check(scheme, world, "sgd");

    private static void Check(string scheme, int world, string optimizer)
    {
        var scenario = TestScenarios.Load(TestScenarios.Topology(world), TestScenarios.Workload(optimizer), TestScenarios.PlanFor(scheme, world));
        var w = scenario.Workload;

        // Sharded: W CPU ranks; after the last step every rank hands over copies of what it holds.
        var blocks = new List<(int Table, Shard Shard, Tensor Weight)>();
        var dense = new Tensor[world][];
        var gate = new object();
        var outcome = TrainingRun.Execute(scenario, new CpuBackend(), new RunOptions(Steps, 0, Seed, Lr), inspect: t =>
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
                $"{scheme} W={world} step {i}: loss {outcome.Losses[i]} vs unsharded {reference.Losses[i]}");

        for (var t = 0; t < w.Tables.Count; t++)
        {
            var table = w.Tables[t];
            var tp = scenario.Plan.Tables[t];
            var mine = blocks.Where(b => b.Table == t).ToList();
            Assert.Equal(tp.Shards.Count, mine.Count);
            if (tp.Scheme == ShardingScheme.DataParallel)
            {
                foreach (var (_, shard, weight) in mine)
                    AssertClose(weight, reference.Tables[t], $"{scheme} W={world}: replica of '{table.Name}' on rank {shard.Rank}");
                continue;
            }
            // Reassemble the table from its shards; every element must be covered exactly once.
            using var full = torch.full(table.Rows, table.Dim, float.NaN, dtype: ScalarType.Float32);
            foreach (var (_, s, weight) in mine)
                full.narrow(0, s.RowOffset, s.Rows).narrow(1, s.ColumnOffset, s.Columns).copy_(weight);
            Assert.False(full.isnan().any().item<bool>(), $"{scheme} W={world}: table '{table.Name}' is not covered by its shards");
            AssertClose(full, reference.Tables[t], $"{scheme} W={world}: table '{table.Name}'");
        }

        for (var r = 0; r < world; r++)
            for (var i = 0; i < reference.Dense.Parameters.Count; i++)
                AssertClose(dense[r][i], reference.Dense.Parameters[i], $"{scheme} W={world}: dense parameter {i} on rank {r}");

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
