using Sim.Sharding;
using Sim.Config;
using Sim.Cost;
using Sim.Predictions;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Planning;

/// <summary>What every planner is given: the cluster, the model, the predictor (and its cost parameters), a time budget and progress reporting.</summary>
public sealed record PlannerContext(
    Cluster Cluster,
    DlrmWorkload Workload,
    Predictor Predictor,
    string WorkloadFile = "workload",
    double TimeLimitSeconds = 10,
    int Seed = 0,
    IProgress<string>? Progress = null,
    bool PredictResult = true)
{
    /// <summary>
    /// A search budget in evaluations instead of wall time (the optimal planner): with it the search is the same on
    /// any machine, so the same seed gives the same plan; <see cref="TimeLimitSeconds"/> then only sets CP-SAT's
    /// deterministic time. Null: the search runs for the wall-clock limit and may differ between runs.
    /// </summary>
    public int? Evaluations { get; init; }

    /// <summary>Share of the free HBM that <see cref="TierChoice"/> may give to rows when tables must leave HBM.</summary>
    public double TierHeadroom { get; init; } = TierChoice.Headroom;

    /// <summary>The cost parameters of <see cref="Predictor"/>: what the planners' load estimates are priced with.</summary>
    public CostParameters Cost => Predictor.CostFor(Cluster);

    /// <summary>The plan's predicted seconds for a <see cref="PlannerResult"/>; NaN when the caller only wants the plan.</summary>
    public double PredictIfWanted(ShardingPlan plan) => PredictResult ? Predict(plan) : double.NaN;

    /// <summary>Predicted iteration seconds of a plan (analytical model): what planners compare.</summary>
    public double Predict(ShardingPlan plan) =>
        Predictor.IterationSeconds(new Scenario(Cluster, Workload, plan));

    /// <summary>Whether a plan fits every GPU's HBM and every node's host memory.</summary>
    public bool Fits(ShardingPlan plan)
    {
        try { MemoryModel.EnsureFits(Cluster, MemoryModel.PerRank(Cluster, Workload, plan), "plan"); return true; }
        catch (SimInputException) { return false; }
    }
}

/// <summary>A planner's answer: the plan, its predicted iteration time, and what the search knows about how good it is.</summary>
public sealed record PlannerResult(ShardingPlan Plan, double PredictedSeconds, string Summary);

public interface IPlanner
{
    string Name { get; }
    PlannerResult Plan(PlannerContext context);

    /// <summary>
    /// Whether the plan can depend on communication precisions and, on more than one node, on NVLink bandwidth. The
    /// load-balancing planners read neither (their per-table costs are lookups, memory and fp32 all-to-all bytes
    /// over the NIC); a planner that predicts whole iterations does. Sweeps share plans across what a planner ignores.
    /// </summary>
    bool ReadsCommunicationDetails => false;
}
