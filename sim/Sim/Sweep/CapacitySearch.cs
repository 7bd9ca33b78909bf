using Sim.Config;
using Sim.Topology;
using Sim.Workload;
using Sim.Predictions;

namespace Sim.Sweep;

/// <summary>Which node counts a capacity search tries.</summary>
internal enum CapacitySizes { PowersOfTwo, Every }

/// <summary>The question: a throughput target, the sizes to try and how the model is run.</summary>
internal sealed record CapacityQuery(
    double TargetSamplesPerSecond,
    int MaxNodes,
    CapacitySizes Sizes = CapacitySizes.PowersOfTwo,
    string Planner = "greedy",
    PredictionMode Mode = PredictionMode.Analytical,
    bool Overlap = false,
    /// <summary>When set, the global batch grows with the cluster (this many samples per GPU); else the workload's batch stays.</summary>
    long? BatchPerGpu = null);

/// <summary>One size tried: its row (status, throughput, reason) and whether it meets the target.</summary>
internal sealed record CapacityTrial(int Nodes, int Gpus, SweepRow Row, bool Meets);

/// <summary>The answer: every size tried in increasing order and the smallest that meets the target (null if none).</summary>
internal sealed record CapacityResult(CapacityQuery Query, IReadOnlyList<CapacityTrial> Trials, CapacityTrial? Chosen, Scenario? Scenario, Prediction? Prediction);

/// <summary>
/// The smallest cluster of a topology's family (same node: GPUs, links, memory; only the node count changes) that
/// reaches a throughput target. Sizes are tried from the smallest up and the first that meets the target wins, so
/// the answer is the smallest even where throughput is not monotone in size. Infeasible sizes (batch does not divide,
/// a GPU overflows) are tried and reported, never chosen.
/// </summary>
internal static class CapacitySearch
{
    public static IEnumerable<int> Sizes(CapacityQuery q)
    {
        if (q.Sizes == CapacitySizes.Every)
        {
            for (var n = 1; n <= q.MaxNodes; n++) yield return n;
        }
        else
        {
            for (long n = 1; n <= q.MaxNodes; n *= 2) yield return (int)n;
        }
    }

    /// <param name="predictor">what every size is planned and predicted with (a calibration profile's; default: uncalibrated).</param>
    public static CapacityResult Run(Cluster family, DlrmWorkload workload, string workloadFile, CapacityQuery q, string topologyFile = "topology",
        Predictor? predictor = null)
    {
        if (!(q.TargetSamplesPerSecond > 0) || !double.IsFinite(q.TargetSamplesPerSecond))
            throw new SimInputException("--target-samples-per-second", "", $"must be a positive number, found {q.TargetSamplesPerSecond}");
        if (q.MaxNodes < 1 || q.MaxNodes > 1_000_000)
            throw new SimInputException("--max-nodes", "", $"must be from 1 to 1,000,000, found {q.MaxNodes}");
        if (!Scenario.Planners.Contains(q.Planner))
            throw new SimInputException("--planner", "", $"unknown planner '{q.Planner}'; expected one of: {string.Join(", ", Scenario.Planners)}");
        // Text of the inputs only matters for sweep keys; a capacity search keys nothing.
        var inputs = new SweepInputs(family, workload, workloadFile, "", "", predictor: predictor, topologyFile: topologyFile);
        var evaluator = new SweepEvaluator(inputs);
        var basePoint = inputs.BasePoint(q.Planner, q.Overlap, q.Mode);
        var trials = new List<CapacityTrial>();
        foreach (var nodes in Sizes(q))
        {
            var point = basePoint with { Nodes = nodes };
            if (q.BatchPerGpu is { } b) point = point with { BatchSize = checked(b * point.Gpus) };
            point = point with { Key = nodes.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            var row = evaluator.Evaluate(point);
            evaluator.ClearCache();
            var meets = row.IsOk && row.SamplesPerSecond >= q.TargetSamplesPerSecond;
            var trial = new CapacityTrial(nodes, point.Gpus, row, meets);
            trials.Add(trial);
            if (meets)
            {
                var scenario = evaluator.ScenarioFor(point, out var memory);
                var prediction = evaluator.Predict(scenario, point.Mode, memory);
                return new CapacityResult(q, trials, trial, scenario, prediction);
            }
        }
        return new CapacityResult(q, trials, null, null, null);
    }
}
