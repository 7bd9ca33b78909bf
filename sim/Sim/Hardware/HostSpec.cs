namespace Sim.Hardware;

/// <summary>Host memory of a node (DDR), used for UVM-placed tables and as a memory tier.</summary>
public sealed record HostSpec(long DdrBytes, double DdrBytesPerSecond, Provenance Provenance);
