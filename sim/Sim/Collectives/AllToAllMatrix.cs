namespace Sim.Collectives;

/// <summary>
/// A full byte matrix for small worlds and tests: any split at all. W² doubles, so keep it to a few hundred
/// ranks; <see cref="AllToAllDemand"/> is the O(W) form sharded embeddings produce.
/// </summary>
internal sealed class AllToAllMatrix : IAllToAllSplits
{
    public const int MaxWorld = 4096;
    private readonly double[,] _bytes;

    public int World { get; }

    public AllToAllMatrix(int world)
    {
        if (world < 1 || world > MaxWorld) throw new ArgumentOutOfRangeException(nameof(world), $"a byte matrix holds 1 to {MaxWorld} ranks");
        World = world;
        _bytes = new double[world, world];
    }

    public double this[int src, int dst]
    {
        get => _bytes[src, dst];
        set
        {
            if (!(value >= 0) || !double.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(value), "bytes must be finite and non-negative");
            _bytes[src, dst] = value;
        }
    }

    public double Bytes(int src, int dst) => _bytes[src, dst];
}
