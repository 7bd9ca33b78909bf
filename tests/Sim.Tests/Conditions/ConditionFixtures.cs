using Sim.Conditions;
using Sim.Config;
using Sim.Cost;
using Sim.Predictions;
using Sim.Topology;

namespace Sim.Tests.Conditions;

/// <summary>Scenarios and helpers shared by the tests of non-ideal conditions.</summary>
public static class ConditionFixtures
{
    /// <summary>Every table row-wise over all GPUs at a large batch: every rank does the same work, bandwidth counts.</summary>
    public static Scenario Symmetric(Cluster c)
    {
        var w = Fixtures.Workload(Fixtures.WorkloadYaml.Replace("batch_size: 1024", "batch_size: 131072"));
        var all = "[" + string.Join(", ", Enumerable.Range(0, c.WorldSize)) + "]";
        var plan = Fixtures.Plan($"tables: {{a: {{scheme: row_wise, ranks: {all}}}, b: {{scheme: row_wise, ranks: {all}}}, c: {{scheme: row_wise, ranks: {all}}}, d: {{scheme: row_wise, ranks: {all}}}}}", w, c);
        return new Scenario(c, w, plan);
    }

    /// <summary>No latency anywhere and no per-collective overhead: a collective's time is its bytes over its share of the links.</summary>
    public static Cluster NoLatency(Cluster c) => c with
    {
        ScaleOut = c.ScaleOut with { LatencySeconds = 0 },
        IntraNode = c.IntraNode with { LatencySeconds = 0 },
    };

    public static readonly Predictor NoOverhead = new(CostParameters.Default with { CollectiveOverheadSeconds = 0 });

    public static OperatingConditions With(string? stragglers = null, string? jitter = null, string? background = null,
        LinkOverlay? degrade = null, int iterations = 50, ulong seed = 1)
    {
        var s = new Stragglers(stragglers is null ? [] : Stragglers.Parse(stragglers), jitter is null ? null : Jitter.Parse(jitter));
        return new OperatingConditions(s, background is null ? BackgroundLoad.None : BackgroundLoad.Parse(background), degrade, iterations, seed);
    }

    public static LinkOverlay Overlay(string yamlEntries) =>
        ConditionsLoader.ParseDegrade("degrade:\n" + yamlEntries, "overlay.yaml");

    public static double Phase(Prediction p, string name) => p.Phases.Single(x => x.Name == name).Seconds;

    /// <summary>Two nodes of <paramref name="gpus"/> GPUs, each alone under its leaf, and two spines: non-blocking.</summary>
    public static Cluster TwoSpines(int gpus = 4) => FabricFixtures.FatTreeCluster(2, gpus, nodesPerLeaf: 1, spines: 2);

    public static SimInputException Throws(Action a) => Assert.Throws<SimInputException>(a);
}
