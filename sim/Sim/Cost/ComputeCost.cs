using Sim.Hardware;

namespace Sim.Cost;

/// <summary>Roofline costs of compute kernels on one GPU.</summary>
internal static class ComputeCost
{
    /// <summary>
    /// GEMM by roofline: the larger of FLOPs over achieved peak and bytes over achieved HBM bandwidth,
    /// plus a launch overhead.
    /// </summary>
    public static double GemmSeconds(GpuSpec gpu, CostParameters p, DType dtype, double flops, double bytes) =>
        Math.Max(flops / (gpu.PeakFlops(dtype) * GemmEfficiency(p, flops)), bytes / (gpu.HbmBytesPerSecond * p.MemoryEfficiency))
        + p.KernelOverheadSeconds;

    /// <summary>Achieved fraction of peak for a GEMM of this many FLOPs (saturates for large GEMMs).</summary>
    public static double GemmEfficiency(CostParameters p, double flops) =>
        p.GemmHalfSaturationFlops <= 0 ? p.GemmEfficiency : p.GemmEfficiency * flops / (flops + p.GemmHalfSaturationFlops);

    /// <summary>An (m x k) by (k x n) matrix product: 2mkn FLOPs, each operand read and the result written once.</summary>
    public static double MatmulSeconds(GpuSpec gpu, CostParameters p, DType dtype, double m, double k, double n) =>
        GemmSeconds(gpu, p, dtype, 2 * m * k * n, (m * k + k * n + m * n) * dtype.Bytes());

    /// <summary>A streaming kernel that moves <paramref name="bytes"/> through HBM.</summary>
    public static double StreamSeconds(GpuSpec gpu, CostParameters p, double bytes) =>
        bytes <= 0 ? 0 : bytes / (gpu.HbmBytesPerSecond * p.MemoryEfficiency) + p.KernelOverheadSeconds;

    /// <summary>
    /// Rows read or written in host memory (UVM): bytes over this GPU's share of host DDR bandwidth times the
    /// achieved UVM efficiency (random rows over the host link are far slower than streaming DDR).
    /// </summary>
    public static double UvmSeconds(Topology.Cluster c, CostParameters p, double bytes) =>
        bytes <= 0 ? 0 : bytes / (c.Host.DdrBytesPerSecond / c.GpusPerNode * p.UvmEfficiency);

    /// <summary>
    /// Seconds a rank's SSD-tier shards keep the node's SSD busy reading (DDR-cache misses) and writing back (updated
    /// rows): the node's SSD bandwidth is shared by its GPUs, as its DDR bandwidth is. Bytes are whole pages
    /// (<c>EmbeddingWork.SsdReadBytes</c>, a layer above). Not efficiency-scaled: the SSD bandwidths are already sustained rates.
    /// </summary>
    public static double SsdReadSeconds(Topology.Cluster c, double bytes) =>
        bytes <= 0 ? 0 : bytes / (Ssd(c).ReadBytesPerSecond / c.GpusPerNode);

    public static double SsdWriteSeconds(Topology.Cluster c, double bytes) =>
        bytes <= 0 ? 0 : bytes / (Ssd(c).WriteBytesPerSecond / c.GpusPerNode);

    private static Hardware.SsdSpec Ssd(Topology.Cluster c) =>
        c.Host.Ssd ?? throw new InvalidOperationException("SSD traffic on a cluster without an SSD (host.ssd)");

    /// <summary>Embedding gathers/scatters: bytes moved over the achieved random-access bandwidth.</summary>
    public static double EmbeddingSeconds(GpuSpec gpu, CostParameters p, double bytes, int kernels) =>
        bytes <= 0 ? 0 : bytes / (gpu.HbmBytesPerSecond * p.EmbeddingEfficiency) + kernels * p.KernelOverheadSeconds;

    /// <summary>Embedding backward with the fused optimizer update: bytes over its own achieved bandwidth.</summary>
    public static double EmbeddingBackwardSeconds(GpuSpec gpu, CostParameters p, double bytes, int shards) =>
        bytes <= 0 ? 0 : bytes / (gpu.HbmBytesPerSecond * p.EmbeddingBackwardEfficiency) + shards * p.EmbeddingBackwardShardSeconds;
}
