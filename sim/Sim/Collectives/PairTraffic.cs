namespace Sim.Collectives;

/// <summary>An explicit list of messages (rings, trees, the hierarchical exchanges).</summary>
internal sealed class PairTraffic : Traffic
{
    private readonly SortedDictionary<int, List<(int, double)>> _bySender = [];

    public void Add(int src, int dst, double bytes)
    {
        if (src == dst || bytes <= 0) return;
        if (!_bySender.TryGetValue(src, out var list)) _bySender[src] = list = [];
        list.Add((dst, bytes));
    }

    public override IEnumerable<int> Senders => _bySender.Keys;

    public override void MessagesFrom(int sender, List<(int Dst, double Bytes)> into)
    {
        if (_bySender.TryGetValue(sender, out var list)) into.AddRange(list);
    }
}
