using Sim.Conditions;
using Sim.Engine;
using Sim.Iterations;

namespace Sim.Predictions;

/// <summary>Seconds one phase contributes to the iteration's critical path.</summary>
public sealed record PhaseTime(string Name, double Seconds, bool IsCommunication);

/// <summary>What one rank did during the iteration: compute time and time in its collective parts.</summary>
public readonly record struct RankTime(int Rank, double ComputeSeconds, double CommunicationSeconds);

/// <summary>The answer to "how long does one iteration take, and where does the time go".</summary>
public sealed record Prediction(
    PredictionMode Mode,
    string Topology,
    string Workload,
    string Plan,
    int WorldSize,
    long GlobalBatchSize,
    double IterationSeconds,
    IReadOnlyList<PhaseTime> Phases,
    IReadOnlyList<long> MemoryBytesPerGpu,
    long MemoryCapacityBytesPerGpu,
    string CostSource,
    double HiddenCommunicationSeconds,
    IReadOnlyList<RankTime> Ranks,
    IReadOnlyList<PathSegment> CriticalPath,
    double? ErrorBand = null,
    string? Stack = null,
    IReadOnlyList<string>? Extrapolations = null,
    IterationDistribution? Distribution = null,
    IReadOnlyList<string>? Conditions = null,
    IReadOnlyList<string>? Notes = null,
    IReadOnlyList<string>? OutOfModel = null,
    BusiestLink? BusiestLink = null)
{
    public double SamplesPerSecond => GlobalBatchSize / IterationSeconds;
    /// <summary>Communication on the critical path: time nothing else hides.</summary>
    public double ExposedCommunicationSeconds
    {
        get
        {
            double sum = 0;
            foreach (var p in Phases) if (p.IsCommunication) sum += p.Seconds;
            return sum;
        }
    }
    /// <summary>The phase that takes longest; phases within rounding (1e-12 relative) of it tie, and the first by name wins.</summary>
    public string BottleneckPhase
    {
        get
        {
            var max = Phases.Max(p => p.Seconds);
            string? first = null;
            foreach (var p in Phases)
                if (p.Seconds >= max * (1 - 1e-12) && (first is null || string.CompareOrdinal(p.Name, first) < 0)) first = p.Name;
            return first!;
        }
    }
    public long MemoryBytesMax => MemoryBytesPerGpu.Max();
    public double MemoryBytesMean => MemoryBytesPerGpu.Average(v => (double)v);

    /// <summary>Builds the report of a timeline (analytical or simulated).</summary>
    public static Prediction From(PredictionMode mode, Scenario s, Timeline t, IReadOnlyList<long> memory, string costSource)
    {
        var path = Iterations.CriticalPath.Walk(t);
        var all = Iterations.Phases.All;
        var perPhase = new double[all.Count];
        foreach (var seg in path) perPhase[Iterations.Phases.IndexOf(seg.Phase)] += seg.Seconds;
        var phases = new PhaseTime[all.Count];
        for (var i = 0; i < phases.Length; i++) phases[i] = new PhaseTime(all[i], perPhase[i], Iterations.Phases.IsCommunication(all[i]));

        var world = s.Cluster.WorldSize;
        var compute = new double[world];
        var comm = new double[world];
        double busiestComm = 0;
        var shape = t.Graph.Shape;
        foreach (var first in shape.BlockFirst)
        {
            if (shape.KindOf[first] == TaskKind.Collective) { t.AddRankSeconds(first, comm); continue; }
            // A compute block: rank r's task is first + r, and it has no per-rank parts.
            RankVectors.AddDifference(compute, t.Finish.AsSpan(first, world), t.Start.AsSpan(first, world));
        }
        for (var r = 0; r < world; r++) busiestComm = r == 0 ? comm[0] : Math.Max(busiestComm, comm[r]);
        var exposed = phases.Where(p => p.IsCommunication).Sum(p => p.Seconds);
        var ranks = new RankTime[world];
        for (var r = 0; r < world; r++) ranks[r] = new RankTime(r, compute[r], comm[r]);
        return new Prediction(mode, s.Cluster.Name, s.Workload.Name, s.Plan.Name, world, s.Workload.GlobalBatchSize,
            t.End, phases, memory, s.Cluster.Gpu.HbmBytes, costSource, Math.Max(0, busiestComm - exposed), ranks, path);
    }
}
