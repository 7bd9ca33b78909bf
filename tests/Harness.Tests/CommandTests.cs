using Sim.Harness.Training;
using static TorchSharp.torch;
using Sim.Iterations;
using Sim.Cost.Operators;
using Sim.Measurements;

namespace Sim.Harness.Tests;

/// <summary>The `harness` command line: bad input is refused with exit 2 before anything runs; good input measures.</summary>
public class CommandTests
{
    private static (int Code, string Out, string Err) Harness(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = HarnessApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    private static (int Code, string Out, string Err) RunWith(string topology, string workload, string plan, params string[] extra)
    {
        var (t, w, p, dir) = TestScenarios.WriteFiles(topology, workload, plan);
        try { return Harness(["run", t, w, p, .. extra]); }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void PlanNamingARankBeyondTheClusterIsRefused()
    {
        var plan = TestScenarios.Plan("bad", ("table_wise", [2]), ("table_wise", [0]), ("table_wise", [1]), ("table_wise", [0]));
        var (code, _, err) = RunWith(TestScenarios.Topology(2), TestScenarios.Workload("sgd"), plan, "--device", "cpu");
        Assert.Equal(HarnessApp.BadInput, code);
        Assert.Matches(@"^error: plan\.yaml:\d+:\d+: tables\.a\.ranks\[0\]: rank 2 does not exist", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void PlanThatDoesNotFitIsRefused()
    {
        // 1 kB of HBM per GPU: the dense model alone does not fit.
        var plan = TestScenarios.PlanFor("table_wise", 2);
        var (code, _, err) = RunWith(TestScenarios.Topology(2, hbmBytes: 1e3), TestScenarios.Workload("sgd"), plan, "--device", "cpu");
        Assert.Equal(HarnessApp.BadInput, code);
        Assert.Matches(@"^error: plan\.yaml: memory: GPU \d .* over by \d+ bytes", err);
    }

    [Fact]
    public void MoreRanksThanCudaDevicesIsRefused()
    {
        // This host has no GPU: a 2-GPU cluster cannot run on --device cuda.
        var (code, _, err) = RunWith(TestScenarios.Topology(2), TestScenarios.Workload("sgd"), TestScenarios.PlanFor("row_wise", 2), "--device", "cuda");
        Assert.Equal(HarnessApp.BadInput, code);
        Assert.StartsWith("error: ", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void DataParallelTableOnSomeRanksOnlyIsRefused()
    {
        var plan = TestScenarios.Plan("dp-partial", ("data_parallel", [0]), ("table_wise", [0]), ("table_wise", [1]), ("table_wise", [0]));
        var (code, _, err) = RunWith(TestScenarios.Topology(2), TestScenarios.Workload("sgd"), plan, "--device", "cpu");
        Assert.Equal(HarnessApp.BadInput, code);
        Assert.Contains("tables.a.ranks: a data_parallel table must be replicated on all 2 ranks", err);
    }

    [Theory]
    [InlineData("--stack", "lazy", "error: --stack: 'lazy' is not a stack; expected eager or fused")]
    [InlineData("--optimizer", "adam", "error: --optimizer: 'adam' is not an optimizer; expected sgd or rowwise_adagrad")]
    public void BadStackOrOptimizerIsRefused(string option, string value, string message)
    {
        var (code, _, err) = RunWith(TestScenarios.Topology(2), TestScenarios.Workload("sgd"), TestScenarios.PlanFor("row_wise", 2), "--device", "cpu", option, value);
        Assert.Equal(HarnessApp.BadInput, code);
        Assert.Equal(message, err.Trim());
    }

    [Theory]
    [InlineData("eager", "harness-eager")]
    [InlineData("fused", "harness-fused")]
    public void RunRecordsItsStackAndTheEffectiveOptimizer(string stack, string recorded)
    {
        var (t, w, p, dir) = TestScenarios.WriteFiles(TestScenarios.Topology(2), TestScenarios.Workload("sgd"), TestScenarios.PlanFor("mixed", 2));
        try
        {
            var outFile = Path.Combine(dir, "m.json");
            var (code, _, err) = Harness("run", t, w, p, "--device", "cpu", "--iterations", "2", "--warmup", "1",
                "--stack", stack, "--optimizer", "rowwise_adagrad", "--out", outFile);
            Assert.True(code == 0, err);
            var m = Assert.Single(MeasurementJson.ReadFile(outFile));
            Assert.Equal(recorded, m.Provenance.Stack);
            Assert.Equal("rowwise_adagrad", m.Run!.Optimizer);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void CpuRunWritesAMeasurement()
    {
        var (t, w, p, dir) = TestScenarios.WriteFiles(TestScenarios.Topology(4), TestScenarios.Workload("rowwise_adagrad"), TestScenarios.PlanFor("mixed", 4));
        try
        {
            var outFile = Path.Combine(dir, "out", "m.json");
            var (code, stdout, err) = Harness("run", t, w, p, "--device", "cpu", "--iterations", "3", "--warmup", "1", "--out", outFile);
            Assert.True(code == 0, err);
            Assert.Contains("iteration", stdout);
            var m = Assert.Single(MeasurementJson.ReadFile(outFile));
            Assert.Equal(MeasurementStatus.OkState, m.Status.State);
            Assert.Equal("cpu", m.Provenance.Device);
            Assert.StartsWith("harness run ", m.Provenance.CommandLine);
            Assert.Equal(["topology", "workload", "plan"], m.Inputs.Select(i => i.Role));
            Assert.All(m.Inputs, i => Assert.Equal(64, i.Sha256.Length));
            Assert.Equal(File.ReadAllText(w), m.Inputs[1].Content);
            var e = m.EndToEnd!;
            Assert.Equal(3, e.MeasuredIterations);
            Assert.Equal(Phases.All, e.Phases.Select(x => x.Name));
            Assert.Equal(4, e.RankPhaseMedians.Count);
            Assert.All(e.PerIteration, it => Assert.True(it.Seconds >= it.GpuBusy && it.HostOverhead >= 0 && double.IsFinite(it.Loss)));
            Assert.All(e.Phases, ph => Assert.True(ph.Min <= ph.Median && ph.Median <= ph.Max));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void FailedRunKeepsWhatItMeasuredAndSaysWhereItFailed()
    {
        var (t, w, p, dir) = TestScenarios.WriteFiles(TestScenarios.Topology(2), TestScenarios.Workload("sgd"), TestScenarios.PlanFor("row_wise", 2));
        try
        {
            // Rank 1 fails in all_to_all_forward of its fourth iteration (index 3): warm-up 1, so 2 measured iterations finished.
            RankTrainer.InjectFault.Value = (rank, phase, it) => rank == 1 && phase == 2 && it == 3;
            var outFile = Path.Combine(dir, "m.json");
            var (code, _, err) = Harness("run", t, w, p, "--device", "cpu", "--iterations", "5", "--warmup", "1", "--out", outFile);
            Assert.Equal(HarnessApp.RunFailed, code);
            Assert.Contains("error: rank 1: all_to_all_forward", err);
            AssertInjectedFaultRecorded(outFile);
        }
        finally
        {
            RankTrainer.InjectFault.Value = null;
            Directory.Delete(dir, true);
        }
    }

    /// <summary>A run whose rank 1 failed in its forward all-to-all after two measured iterations wrote that down.</summary>
    internal static void AssertInjectedFaultRecorded(string outFile)
    {
        var m = Assert.Single(MeasurementJson.ReadFile(outFile));
        Assert.Equal(MeasurementStatus.FailedState, m.Status.State);
        Assert.Equal(1, m.Status.FailedRank);
        Assert.Equal("all_to_all_forward", m.Status.FailedCall);
        Assert.Contains("injected fault", m.Status.Error);
        Assert.Equal(2, m.EndToEnd!.MeasuredIterations);
    }

    [Fact]
    public void CpuMicrobenchmarksRun()
    {
        var dir = Path.Combine(Path.GetTempPath(), "harness-micro-" + Guid.NewGuid().ToString("N"));
        try
        {
            var f = Path.Combine(dir, "c.json");
            var r = Harness("micro", "collectives", "--device", "cpu", "--world", "1,3", "--sizes", "1K:16K", "--repetitions", "2", "--warmup", "1", "--out", f);
            Assert.True(r.Code == 0, r.Err);
            var c = Assert.Single(MeasurementJson.ReadFile(f)).Micro!.Collectives!;
            Assert.Equal(2 * 4 * 3, c.Count); // worlds x ops x sizes
            Assert.All(c, x => Assert.True(x.Seconds > 0 && x.Bytes % (4 * x.WorldSize) == 0));

            var g = Path.Combine(dir, "g.json");
            r = Harness("micro", "gemm", "--device", "cpu", "--sizes", "32,16x8x4", "--repetitions", "2", "--out", g);
            Assert.True(r.Code == 0, r.Err);
            Assert.Equal(2, Assert.Single(MeasurementJson.ReadFile(g)).Micro!.Gemm!.Count);

            var e = Path.Combine(dir, "e.json");
            r = Harness("micro", "embedding", "--device", "cpu", "--sizes", "1000x8x3x64", "--repetitions", "2", "--out", e);
            Assert.True(r.Code == 0, r.Err);
            var emb = Assert.Single(Assert.Single(MeasurementJson.ReadFile(e)).Micro!.Embedding!);
            Assert.True(emb.ForwardSeconds > 0 && emb.BackwardSeconds > 0);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void CpuOperatorGridWritesAValidMeasurementPerStack()
    {
        var dir = Path.Combine(Path.GetTempPath(), "harness-ops-" + Guid.NewGuid().ToString("N"));
        try
        {
            var f = Path.Combine(dir, "o.json");
            var r = Harness("micro", "operators", "--device", "cpu", "--quick", "--warmup", "1", "--repetitions", "2", "--out", f);
            Assert.True(r.Code == 0, r.Err);
            var m = Assert.Single(MeasurementJson.ReadFile(f));
            MeasurementJson.Validate(m);
            Assert.Null(m.Provenance.Stack); // two stacks: each result names its own
            var ops = m.Micro!.Operators!;
            Assert.Equal([MeasurementStacks.HarnessEager, MeasurementStacks.HarnessFused], ops.Select(o => o.Stack).Distinct().Order());
            foreach (var stack in new[] { MeasurementStacks.HarnessEager, MeasurementStacks.HarnessFused })
            {
                var mine = ops.Where(o => o.Stack == stack).ToList();
                // The harness measures its own embedding, optimizer and framework operators; GEMMs, MLP layers, the
                // interaction and row-wise bucketing come from the reference's grid (the same libtorch kernels).
                string[] harnessOps = [OperatorNames.EmbeddingForward, OperatorNames.EmbeddingBackward, OperatorNames.SparseOptimizer,
                    OperatorNames.DenseOptimizer, OperatorNames.SliceAssembly, OperatorNames.Elementwise];
                var expected = harnessOps.Where(o => o != OperatorNames.SparseOptimizer || stack == MeasurementStacks.HarnessEager);
                Assert.Equal(expected.Order(), mine.Select(o => o.Op).Distinct().Order());
                Assert.Equal(["rowwise_adagrad", "sgd"], mine.Where(o => o.Op == OperatorNames.EmbeddingBackward).Select(o => o.Optimizer!).Distinct().Order());
                Assert.Equal(["adagrad", "sgd"], mine.Where(o => o.Op == OperatorNames.DenseOptimizer).Select(o => o.Optimizer!).Distinct().Order());
            }
            Assert.All(ops.Where(o => o.Op == OperatorNames.EmbeddingForward), o =>
                Assert.Equal(["batch", "dim", "pooling", "rows", "unique_rows"], o.Shape.Keys.Order()));
            Assert.All(ops, o => Assert.True(o.DeviceSeconds > 0 && o.HostSeconds > 0 && o.WallSeconds > 0, $"{o.Op}: times must be positive"));

            // One stack: provenance names it.
            var one = Path.Combine(dir, "one.json");
            r = Harness("micro", "operators", "--device", "cpu", "--quick", "--stacks", "fused", "--warmup", "0", "--repetitions", "1", "--out", one);
            Assert.True(r.Code == 0, r.Err);
            var m1 = Assert.Single(MeasurementJson.ReadFile(one));
            Assert.Equal(MeasurementStacks.HarnessFused, m1.Provenance.Stack);
            Assert.All(m1.Micro!.Operators!, o => Assert.Equal(MeasurementStacks.HarnessFused, o.Stack));

            r = Harness("micro", "operators", "--device", "cpu", "--stacks", "eager,lazy");
            Assert.Equal(HarnessApp.BadInput, r.Code);
            Assert.Equal("error: --stacks: 'lazy' is not a stack; expected eager or fused", r.Err.Trim());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void ShardsHoldExactlyTheRowsAndColumnsOfTheUnshardedTable()
    {
        using var full = TableInit.Create(CPU, 3, 5, 1000, 0, 1000, 0, 24);
        using var block = TableInit.Create(CPU, 3, 5, 1000, 317, 101, 7, 9);
        Assert.True(block.eq(full.narrow(0, 317, 101).narrow(1, 7, 9)).all().item<bool>());
        var bound = 1 / Math.Sqrt(1000);
        Assert.True(full.abs().max().item<float>() <= bound);
        // Different tables and seeds differ.
        using var other = TableInit.Create(CPU, 3, 6, 1000, 0, 1000, 0, 24);
        Assert.False(other.eq(full).all().item<bool>());
    }
}
