using Sim.Conditions;
using Sim.Engine;
using Sim.Iterations;

namespace Sim.Predictions;

/// <summary>Seconds one phase contributes to the iteration's critical path.</summary>
public sealed record PhaseTime(string Name, double Seconds, bool IsCommunication);

/// <summary>What one rank did during the iteration: compute time and time in its collective parts.</summary>
public sealed record RankTime(int Rank, double ComputeSeconds, double CommunicationSeconds);

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
    public double ExposedCommunicationSeconds => Phases.Where(p => p.IsCommunication).Sum(p => p.Seconds);
    /// <summary>The phase that takes longest; phases within rounding (1e-12 relative) of it tie, and the first by name wins.</summary>
    public string BottleneckPhase
    {
        get
        {
            var max = Phases.Max(p => p.Seconds);
            return Phases.Where(p => p.Seconds >= max * (1 - 1e-12)).OrderBy(p => p.Name, StringComparer.Ordinal).First().Name;
        }
    }
    public long MemoryBytesMax => MemoryBytesPerGpu.Max();
    public double MemoryBytesMean => MemoryBytesPerGpu.Average(v => (double)v);

    /// <summary>Builds the report of a timeline (analytical or simulated).</summary>
    public static Prediction From(PredictionMode mode, Scenario s, Timeline t, IReadOnlyList<long> memory, string costSource)
    {
        var path = Iterations.CriticalPath.Walk(t);
        var perPhase = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var seg in path) perPhase[seg.Phase] = perPhase.GetValueOrDefault(seg.Phase) + seg.Seconds;
        var phases = Iterations.Phases.All.Select(n => new PhaseTime(n, perPhase.GetValueOrDefault(n), Iterations.Phases.IsCommunication(n))).ToList();

        var world = s.Cluster.WorldSize;
        var compute = new double[world];
        var comm = new double[world];
        double busiestComm = 0;
        foreach (var task in t.Graph.Tasks)
        {
            if (task.Kind == TaskKind.Compute) compute[task.Rank] += t.SecondsFor(task.Id, task.Rank);
            else for (var r = 0; r < world; r++) comm[r] += t.SecondsFor(task.Id, r);
        }
        busiestComm = comm.DefaultIfEmpty(0).Max();
        var exposed = phases.Where(p => p.IsCommunication).Sum(p => p.Seconds);
        var ranks = Enumerable.Range(0, world).Select(r => new RankTime(r, compute[r], comm[r])).ToList();
        return new Prediction(mode, s.Cluster.Name, s.Workload.Name, s.Plan.Name, world, s.Workload.GlobalBatchSize,
            t.End, phases, memory, s.Cluster.Gpu.HbmBytes, costSource, Math.Max(0, busiestComm - exposed), ranks, path);
    }
}
