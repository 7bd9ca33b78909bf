using Sim.Predictions;
using Sim.Planning;

namespace Sim.Tests;

public class OptimalPlannerScaleTests
{
    [Fact]
    public void Cp_sat_places_hundreds_of_alike_tables_as_classes_and_reports_its_bound()
    {
        // 320 tables in two classes on 32 GPUs: one boolean per table and GPU would be 10,240 variables; classes need 64.
        const string yaml = @"
name: many-alike
source: test fixture
batch_size: 4096
dense_features: 13
bottom_mlp: [64, 32]
top_mlp: [64, 1]
optimizer: rowwise_adagrad
tables:
  - {name: l, count: 64,  rows: 200000, dim: 32, pooling_factor: 20, access: {zipf: 1.05}}
  - {name: s, count: 256, rows: 20000,  dim: 32, pooling_factor: 5}
";
        var c = Fixtures.Cluster(4, 8);
        var w = Fixtures.Workload(yaml);
        var result = new OptimalPlanner().Plan(new PlannerContext(c, w, Predictor.Uncalibrated, "w.yaml", 4));
        Assert.Matches(@"CP-SAT load makespan [0-9.]+ ms, bound [0-9.]+ ms \(gap [0-9.]+ %\)", result.Summary);
        var greedy = new GreedyPlanner().Plan(new PlannerContext(c, w, Predictor.Uncalibrated, "w.yaml"));
        Assert.True(result.PredictedSeconds <= greedy.PredictedSeconds);
    }
}
