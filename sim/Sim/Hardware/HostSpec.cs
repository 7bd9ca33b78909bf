namespace Sim.Hardware;

/// <summary>
/// Host memory of a node (DDR), used for UVM-placed tables and as a memory tier; <see cref="Ssd"/>, when the topology
/// gives one, is the node's flash below it (the SSD tier). Without it no table is ever placed on SSD.
/// </summary>
public sealed record HostSpec(long DdrBytes, double DdrBytesPerSecond, Provenance Provenance)
{
    public SsdSpec? Ssd { get; init; }
}
