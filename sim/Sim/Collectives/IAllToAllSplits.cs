namespace Sim.Collectives;

/// <summary>
/// Who sends how many bytes to whom in an all-to-all over ranks 0..World−1. Uneven splits are the norm:
/// table-wise sharding gives every rank a different share. A rank's bytes to itself never touch a link.
/// </summary>
internal interface IAllToAllSplits
{
    int World { get; }
    double Bytes(int src, int dst);
}
