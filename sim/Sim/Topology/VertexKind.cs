namespace Sim.Topology;

/// <summary>What a vertex of the cluster graph is. GPUs and CPUs are endpoints; switches and NICs forward.</summary>
public enum VertexKind { Gpu, NvSwitch, PcieSwitch, Cpu, Nic, Leaf, Spine, SuperSpine, Switch }

internal static class VertexKinds
{
    /// <summary>Height in the physical hierarchy: used to lay out plots and to tell uplinks from downlinks.</summary>
    public static int Level(this VertexKind k) => k switch
    {
        VertexKind.Gpu => 0,
        VertexKind.NvSwitch or VertexKind.PcieSwitch => 1,
        VertexKind.Cpu or VertexKind.Nic => 2,
        VertexKind.Leaf or VertexKind.Switch => 3,
        VertexKind.Spine => 4,
        VertexKind.SuperSpine => 5,
        _ => throw new ArgumentOutOfRangeException(nameof(k)),
    };

    public static string Word(this VertexKind k) => k switch
    {
        VertexKind.Gpu => "gpu",
        VertexKind.NvSwitch => "nvswitch",
        VertexKind.PcieSwitch => "pcie switch",
        VertexKind.Cpu => "cpu",
        VertexKind.Nic => "nic",
        VertexKind.Leaf => "leaf",
        VertexKind.Spine => "spine",
        VertexKind.SuperSpine => "super-spine",
        VertexKind.Switch => "switch",
        _ => throw new ArgumentOutOfRangeException(nameof(k)),
    };
}
