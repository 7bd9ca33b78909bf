namespace Sim.Collectives;

/// <summary>
/// nccl-tests' all-to-all: each rank's buffer of <see cref="BytesPerRank"/> bytes is cut in World equal
/// pieces, one per rank (its own piece included, as nccl-tests counts it).
/// </summary>
internal sealed record UniformAllToAll(int World, double BytesPerRank) : IAllToAllSplits
{
    public double Bytes(int src, int dst) => BytesPerRank / World;
}
