namespace Sim.Collectives;

/// <summary>An all-to-all's messages read straight from its splits, optionally only those at rank distance <see cref="Shift"/>.</summary>
internal sealed class SplitsTraffic(IAllToAllSplits splits, int shift = 0) : Traffic
{
    public int Shift { get; } = shift;

    public override IEnumerable<int> Senders => Enumerable.Range(0, splits.World);

    public override void MessagesFrom(int sender, List<(int Dst, double Bytes)> into)
    {
        var w = splits.World;
        if (Shift != 0)
        {
            var dst = (sender + Shift) % w;
            into.Add((dst, splits.Bytes(sender, dst)));
            return;
        }
        for (var dst = 0; dst < w; dst++)
            if (dst != sender) into.Add((dst, splits.Bytes(sender, dst)));
    }
}
