using Sim.Predictions;
using Sim.Report;

namespace Sim.Tests;

/// <summary>Predictions flag, next to the number, inputs where the model is weakest.</summary>
public class OutOfModelTests
{
    private static Scenario DlrmSmallOnH200(long batch)
    {
        var c = Topology.TopologyLoader.Load(Fixtures.Repo("topologies/h200x1.yaml"));
        var w = Workload.WorkloadLoader.Load(Fixtures.Repo("workloads/dlrm-small.yaml")) with { GlobalBatchSize = batch };
        return new Scenario(c, w, Scenario.MakePlan(c, w, "greedy", "dlrm-small.yaml"));
    }

    [Fact]
    public void A_tiny_batch_on_eager_pytorch_is_flagged_host_bound_and_tiny_and_the_measured_batch_is_not()
    {
        var predictor = Predictor.For(null, "eager");
        var tiny = predictor.Predict(DlrmSmallOnH200(32), PredictionMode.Analytical).OutOfModel!;
        Assert.Contains(tiny, f => f.StartsWith("host-bound step: the host issues for ", StringComparison.Ordinal));
        Assert.Contains(tiny, f => f.StartsWith("tiny batch: 32 samples per GPU", StringComparison.Ordinal));
        var measured = predictor.Predict(DlrmSmallOnH200(8192), PredictionMode.Analytical).OutOfModel!;
        Assert.Empty(measured);
    }

    [Fact]
    public void Uncalibrated_and_extrapolated_predictions_say_so()
    {
        var s = DlrmSmallOnH200(8192);
        Assert.Contains(Predictor.For(null, "fused").Predict(s, PredictionMode.Analytical).OutOfModel!, f => f.StartsWith("uncalibrated:", StringComparison.Ordinal));
        // The built-in H200 models on an A100 cluster: transferred by spec ratios, an extrapolation.
        var zionex = Scenario.Load(Fixtures.Repo("topologies/zionex-16node.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"), null);
        var p = Predictor.For(null, "eager").Predict(zionex, PredictionMode.Analytical);
        Assert.Contains(p.OutOfModel!, f => f.StartsWith("extrapolated profile: ", StringComparison.Ordinal));
    }

    [Fact]
    public void The_flags_are_in_the_json_and_printed_under_the_iteration()
    {
        var p = Predictor.For(null, "eager").Predict(DlrmSmallOnH200(32), PredictionMode.Analytical);
        Assert.Equal(p.OutOfModel, PredictionJson.Parse(PredictionJson.Write(p)).OutOfModel);
        using var dir = new Fixtures.TempDir();
        var w = dir.Write("w.yaml", File.ReadAllText(Fixtures.Repo("workloads/dlrm-small.yaml")).Replace("batch_size: 8192", "batch_size: 32"));
        var r = CliRunner.Run("predict", Fixtures.Repo("topologies/h200x1.yaml"), w);
        Assert.Equal(0, r.ExitCode);
        var lines = r.Stdout.Split('\n');
        var after = Array.FindIndex(lines, l => l.Contains("iteration", StringComparison.Ordinal) && l.Contains("100.0 %", StringComparison.Ordinal)) + 2;
        Assert.StartsWith("out of model:     host-bound step", lines[after]);
    }
}
