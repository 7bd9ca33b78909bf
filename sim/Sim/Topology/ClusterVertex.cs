namespace Sim.Topology;

/// <summary>
/// One vertex of the cluster graph. <see cref="Node"/> is -1 for switches outside nodes, <see cref="Pod"/>
/// -1 for vertices above pods, <see cref="Rank"/> -1 for anything but a GPU.
/// </summary>
public sealed record ClusterVertex(int Id, VertexKind Kind, string Name, int Node, int Pod, int Rank);
