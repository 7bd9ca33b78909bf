namespace Sim.Topology;

/// <summary>Which tier carries traffic between two GPUs.</summary>
public enum LinkTier { Local, IntraNode, ScaleOut }
