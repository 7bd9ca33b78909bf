using Sim.Iterations;
using Sim.Cost.Operators;
using Sim.Measurements;

namespace Sim.Tests;

/// <summary>
/// The plain-PyTorch reference runner (validation/reference/dlrm_reference.py) writes Measurements Sim reads: its
/// committed CPU samples parse and validate against the schema, say they come from the pytorch-eager stack, and carry
/// the nine phases (run) and a grid of valid operators with positive device times (micro).
/// </summary>
public class ReferenceSampleTests
{
    private static Measurement ReadOne(string relative)
    {
        var all = MeasurementJson.ReadFile(Fixtures.Repo(relative));
        return Assert.Single(all);
    }

    [Fact]
    public void The_reference_run_sample_is_a_valid_pytorch_eager_run_with_the_nine_phases()
    {
        var m = ReadOne("validation/reference/samples/cpu-w2-sample.json");
        Assert.Equal(MeasurementKinds.Run, m.Kind);
        Assert.Equal(MeasurementStacks.PytorchEager, m.Provenance.Stack);
        Assert.False(string.IsNullOrEmpty(m.Provenance.Python));
        Assert.StartsWith("python3 validation/reference/dlrm_reference.py run ", m.Provenance.CommandLine);
        Assert.True(m.Status.IsOk);
        Assert.Equal(2, m.Run!.WorldSize);
        Assert.Equal(["topology", "workload", "plan"], m.Inputs.Select(i => i.Role).ToArray());
        var e = m.EndToEnd!;
        Assert.Equal(Phases.All, e.Phases.Select(p => p.Name).ToArray());
        Assert.Equal(m.Run.Iterations, e.MeasuredIterations);
        Assert.Equal(2, e.RankPhaseMedians.Count);
        Assert.All(e.PerIteration, it =>
        {
            Assert.Equal(Phases.All.Count, it.Phases.Count);
            Assert.True(it.Seconds > 0);
            Assert.True(double.IsFinite(it.Loss) && it.Loss > 0);
        });
        Assert.True(e.Iteration.Median > 0);
        Assert.True(e.SamplesPerSecond > 0);
    }

    [Fact]
    public void The_reference_micro_sample_holds_valid_operators_with_positive_device_times()
    {
        var m = ReadOne("validation/reference/samples/cpu-micro-sample.json");
        Assert.Equal(MeasurementKinds.Micro, m.Kind);
        Assert.Equal(MeasurementStacks.PytorchEager, m.Provenance.Stack);
        var ops = m.Micro!.Operators!;
        Assert.NotEmpty(ops);
        foreach (var name in OperatorNames.All)
            Assert.Contains(ops, o => o.Op == name);
        Assert.All(ops, o =>
        {
            Assert.Contains(o.Op, OperatorNames.All);
            Assert.Equal(MeasurementStacks.PytorchEager, o.Stack);
            Assert.True(o.DeviceSeconds > 0, $"{o.Op}: device_seconds {o.DeviceSeconds}");
            Assert.True(o.HostSeconds >= 0);
            Assert.NotEmpty(o.Shape);
        });
        Assert.All(ops.Where(o => o.Op == OperatorNames.Gemm), o => Assert.Equal(["m", "k", "n"], o.Shape.Keys.ToArray()));
        Assert.All(ops.Where(o => o.Op is OperatorNames.EmbeddingBackward or OperatorNames.SparseOptimizer),
            o => Assert.Contains(o.Optimizer, new[] { "sgd", "rowwise_adagrad" }));
        Assert.All(ops.Where(o => o.Op is OperatorNames.EmbeddingForward or OperatorNames.EmbeddingBackward or OperatorNames.SparseOptimizer),
            o => Assert.Equal(["rows", "dim", "batch", "pooling", "unique_rows"], o.Shape.Keys.ToArray()));
    }
}
