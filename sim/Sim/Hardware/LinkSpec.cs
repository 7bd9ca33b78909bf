namespace Sim.Hardware;

/// <summary>A link class: bandwidth per direction per GPU and one-way latency.</summary>
public sealed record LinkSpec(string Tier, double BytesPerSecond, double LatencySeconds, Provenance Provenance);
