namespace Sim.Collectives;

/// <summary>
/// Parameters of the collective model beyond the links: protocols and per-message costs. The defaults come
/// from NCCL's own tuning model and say so in <see cref="Source"/>; a calibration profile replaces them.
/// The achieved fraction of link bandwidth for large messages stays in
/// <see cref="Sim.Cost.CostParameters"/> (intra-node and scale-out collective efficiency).
/// </summary>
internal sealed record CollectiveParameters
{
    /// <summary>
    /// NCCL 2.x src/graph/tuning.cc, ring: base latency LL/LL128/Simple 3.6/10.0/8.4 us, per-step latency
    /// NVLink 0.47/1.9/3.4 us and network 2.7/4.0/9.6 us, bandwidth factor LL 1/4 (multi-node or all-reduce),
    /// LL128 0.92, Simple 1. Here LL stands for the links' own latency, so the other protocols' extras are
    /// taken relative to LL [D]; the call overhead itself is CostParameters.CollectiveOverheadSeconds.
    /// </summary>
    public IReadOnlyList<ProtocolSpec> Protocols { get; init; } =
    [
        new("LL", 0, 0, 0, 0.25),
        new("LL128", 6.4e-6, 1.43e-6, 1.3e-6, 0.92),
        new("Simple", 4.8e-6, 2.93e-6, 6.9e-6, 1.0),
    ];

    /// <summary>Cost of each point-to-point message a rank posts in an all-to-all (send/receive setup and progress); assumed (unverified).</summary>
    public double PeerMessageSeconds { get; init; } = 0.5e-6;

    /// <summary>Above this many ranks a pairwise all-to-all is priced from a sample of its steps (the fabrics are symmetric).</summary>
    public int PairwiseExactRankLimit { get; init; } = 128;

    /// <summary>Elements per row for row-wise quantised communication (the embedding dimension, typically).</summary>
    public int RowElements { get; init; } = 128;

    public string Source { get; init; } = "NCCL 2.x tuning-model defaults (src/graph/tuning.cc), uncalibrated";

    public static readonly CollectiveParameters Default = new();

    /// <summary>One full-bandwidth protocol with no extra latency and no per-message cost: the closed forms' idealisation.</summary>
    public static readonly CollectiveParameters Ideal = new()
    {
        Protocols = [new ProtocolSpec("Simple", 0, 0, 0, 1.0)],
        PeerMessageSeconds = 0,
        Source = "ideal (protocol efficiency 1, no protocol latency)",
    };
}
