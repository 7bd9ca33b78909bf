namespace Sim.Topology;

/// <summary>
/// Fine link tiers of the cluster graph. Each maps to a coarse <see cref="LinkTier"/>, whose achieved
/// efficiency the cost model and the event engine apply per link: NVLink (and CPU links) are intra-node;
/// PCIe counts as scale-out because GPU-to-GPU traffic only crosses it on its way to a NIC, so it must be
/// priced like the network transfer it is part of (else a PCIe link as fast as its NIC would bind first).
/// </summary>
internal static class TierNames
{
    /// <summary>GPU to NVSwitch, or GPU to GPU in a cube mesh.</summary>
    public const string NvLink = "nvlink";
    /// <summary>GPU, NIC or CPU to a PCIe switch.</summary>
    public const string Pcie = "pcie";
    /// <summary>CPU socket to CPU socket (UPI).</summary>
    public const string Cpu = "cpu";
    /// <summary>NIC to its leaf (or to the one switch of a non-blocking fabric).</summary>
    public const string Nic = "nic";
    /// <summary>Leaf to spine.</summary>
    public const string Leaf = "leaf";
    /// <summary>Spine to super-spine (between pods).</summary>
    public const string Spine = "spine";

    /// <summary>Tiers in the order they are crossed going up.</summary>
    public static readonly IReadOnlyList<string> All = [NvLink, Pcie, Cpu, Nic, Leaf, Spine];

    public static LinkTier Coarse(string tier) => tier switch
    {
        NvLink or Cpu => LinkTier.IntraNode,
        _ => LinkTier.ScaleOut,
    };

    public static string Describe(string tier) => tier switch
    {
        NvLink => "GPU to NVSwitch / GPU",
        Pcie => "PCIe (GPU, NIC, CPU to switch)",
        Cpu => "CPU socket to socket",
        Nic => "NIC to leaf",
        Leaf => "leaf to spine",
        Spine => "spine to super-spine",
        _ => tier,
    };
}
