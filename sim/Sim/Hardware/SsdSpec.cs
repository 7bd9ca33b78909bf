namespace Sim.Hardware;

/// <summary>
/// The flash storage of a node (all its drives together), shared by the node's GPUs: the SSD memory tier's capacity and
/// bandwidths. <see cref="MinIoBytes"/> is the smallest read or write the drive does (a flash page, 4 KiB typical):
/// a row smaller than that still costs a whole page (read amplification).
/// </summary>
public sealed record SsdSpec(long CapacityBytes, double ReadBytesPerSecond, double WriteBytesPerSecond, long MinIoBytes, Provenance Provenance)
{
    /// <summary>Bytes the drive moves to read or write one row of the given size: at least one page.</summary>
    public double IoBytes(double rowBytes) => Math.Max(rowBytes, MinIoBytes);
}
