using Sim.Sharding;
using Sim.Workload;
using Sim.Hardware;

namespace Sim.Tests;

/// <summary>
/// Sweeps share one plan between points that differ only in what the planner ignores
/// (<see cref="Planning.IPlanner.ReadsCommunicationDetails"/>): this holds the load-balancing planners to it.
/// </summary>
public class PlanSharingTests
{
    public static TheoryData<string> LoadBalancers => ["greedy", "balanced", "hierarchical"];

    [Theory]
    [MemberData(nameof(LoadBalancers))]
    public void A_load_balancing_plan_ignores_communication_precision_and_nvlink_across_nodes(string planner)
    {
        Assert.False(Scenario.Planner(planner).ReadsCommunicationDetails);
        var c = Fixtures.Cluster(4, 4);
        var w = WorkloadGenerator.Generate(new GeneratorOptions(60, 5e8, 11) { Dims = [16, 64], BatchSize = 4096 });
        string Plan(Topology.Cluster cluster, DlrmWorkload workload) =>
            PlanLoader.ToYaml(Scenario.MakePlan(cluster, workload, planner, "generated"));
        var baseline = Plan(c, w);
        foreach (var dtype in new[] { DType.Bf16, DType.Fp8, DType.Int8 })
            Assert.Equal(baseline, Plan(c, w with { Precision = w.Precision with { AllToAllForward = dtype, AllToAllBackward = dtype, AllReduce = dtype } }));
        Assert.Equal(baseline, Plan(c with { IntraNode = c.IntraNode with { BytesPerSecond = c.IntraNode.BytesPerSecond / 7 } }, w));
        // Plans are not shared across the NIC (fp32 all-to-all bytes over it are part of a table's cost), nor by the
        // optimal planner, which predicts whole iterations.
        Assert.True(Scenario.Planner("optimal").ReadsCommunicationDetails);
    }
}
