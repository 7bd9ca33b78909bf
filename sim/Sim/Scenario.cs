using Sim.Config;
using Sim.Predictions;
using Sim.Sharding;
using Sim.Topology;
using Sim.Workload;
using Sim.Planning;

namespace Sim;

/// <summary>A checked (Cluster, Workload, Plan): what every prediction, planner and harness run starts from.</summary>
public sealed record Scenario(Cluster Cluster, DlrmWorkload Workload, ShardingPlan Plan)
{
    private static readonly IPlanner[] PlannerList = [new GreedyPlanner(), new BalancedPlanner(), new HierarchicalPlanner(), new OptimalPlanner()];

    public static readonly IReadOnlyList<string> Planners = PlannerList.Select(p => p.Name).ToArray();

    public static IPlanner Planner(string name) =>
        PlannerList.FirstOrDefault(p => p.Name == name)
        ?? throw new SimInputException("--planner", "", $"unknown planner '{name}'; expected one of: {string.Join(", ", Planners)}");

    /// <summary>
    /// Loads the three files (or plans with <paramref name="planner"/> when no plan file is given) and checks
    /// that they fit together: the batch divides over the GPUs and the plan fits in every GPU's memory.
    /// </summary>
    /// <param name="predictor">what the planner prices tables with (default: uncalibrated).</param>
    public static Scenario Load(string topologyPath, string workloadPath, string? planPath, string? planner = null, Predictor? predictor = null)
    {
        var cluster = TopologyLoader.Load(topologyPath);
        var workload = WorkloadLoader.Load(workloadPath);
        var workloadName = YamlDocument.DisplayName(workloadPath);
        CheckBatch(cluster, workload, workloadName);
        ShardingPlan plan;
        string planName;
        if (planPath is not null)
        {
            plan = PlanLoader.Load(planPath, workload, cluster);
            planName = YamlDocument.DisplayName(planPath);
        }
        else
        {
            plan = MakePlan(cluster, workload, planner ?? "greedy", workloadName, predictor);
            planName = $"planner {planner ?? "greedy"}";
        }
        MemoryModel.EnsureFits(cluster, MemoryModel.PerRank(cluster, workload, plan), planName);
        return new Scenario(cluster, workload, plan);
    }

    public static ShardingPlan MakePlan(Cluster cluster, DlrmWorkload workload, string planner, string workloadName, Predictor? predictor = null) =>
        Planner(planner).Plan(new PlannerContext(cluster, workload, predictor ?? Predictor.ForWorkload(workload), workloadName, PredictResult: false)).Plan;

    public static void CheckBatch(Cluster cluster, DlrmWorkload workload, string workloadName)
    {
        if (workload.GlobalBatchSize % cluster.WorldSize != 0)
            throw new SimInputException(workloadName, "batch_size",
                $"global batch {workload.GlobalBatchSize} does not divide evenly over the {cluster.WorldSize} GPUs of '{cluster.Name}'");
    }
}
