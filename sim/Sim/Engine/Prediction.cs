namespace Sim.Engine;

/// <summary>Seconds one phase contributes to the iteration's critical path.</summary>
public sealed record PhaseTime(string Name, double Seconds, bool IsCommunication);

/// <summary>The answer to "how long does one iteration take, and where does the time go".</summary>
public sealed record Prediction(
    string Mode,
    string Topology,
    string Workload,
    string Plan,
    int WorldSize,
    long GlobalBatchSize,
    double IterationSeconds,
    IReadOnlyList<PhaseTime> Phases,
    IReadOnlyList<long> MemoryBytesPerGpu,
    long MemoryCapacityBytesPerGpu,
    string CostSource)
{
    public double SamplesPerSecond => GlobalBatchSize / IterationSeconds;
    public double CommunicationSeconds => Phases.Where(p => p.IsCommunication).Sum(p => p.Seconds);
    public string BottleneckPhase => Phases.OrderByDescending(p => p.Seconds).ThenBy(p => p.Name, StringComparer.Ordinal).First().Name;
    public long MemoryBytesMax => MemoryBytesPerGpu.Max();
    public double MemoryBytesMean => MemoryBytesPerGpu.Average(v => (double)v);
}
