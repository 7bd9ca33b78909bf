using Sim.Sharding;
using Sim.Planning;

namespace Sim.Tests;

/// <summary>The optimal planner with an evaluation budget: the same seed gives the same plan, whatever the machine's speed.</summary>
public class OptimalPlannerDeterminismTests
{
    [Fact]
    public void A_budgeted_search_gives_the_same_plan_for_the_same_seed()
    {
        var c = Fixtures.Cluster(2, 4);
        var w = Fixtures.Workload();
        string Plan(int seed, double limit) => PlanLoader.ToYaml(new OptimalPlanner().Plan(
            new PlannerContext(c, w, Sim.Predictions.Predictor.Uncalibrated, "test-workload.yaml", limit, seed) { Evaluations = 200 }).Plan);
        var first = Plan(1, 1);
        Assert.Equal(first, Plan(1, 1));
        Assert.Equal(Plan(2, 1), Plan(2, 1));
    }

    [Fact]
    public void The_budget_is_checked()
    {
        var r = CliRunner.Run("plan", Fixtures.Repo("topologies/h200x2.yaml"), Fixtures.Repo("workloads/validation/val-base.yaml"), "--planner", "optimal", "--evaluations", "0");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--evaluations: must be from 1", r.Stderr);
    }
}
