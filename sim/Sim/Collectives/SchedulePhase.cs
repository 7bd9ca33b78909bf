namespace Sim.Collectives;

/// <summary>
/// One phase of a collective: messages that are in flight together, repeated <see cref="BandwidthSteps"/>
/// times (a ring step, say), with <see cref="IntraNodeSteps"/> + <see cref="NetworkSteps"/> link latencies on
/// its critical path (for a pipelined tree, its depth) and <see cref="PeerMessages"/> point-to-point
/// messages posted per rank. <see cref="Repeat"/> scales the whole phase (a sampled step standing for several).
/// </summary>
internal sealed record SchedulePhase(
    string Name,
    Traffic Traffic,
    int IntraNodeSteps,
    int NetworkSteps,
    int BandwidthSteps,
    int PeerMessages = 0,
    double Repeat = 1);
