namespace Sim.Engine;

/// <summary>A message in flight: bytes left on a fixed route, at the rate max-min fairness gives it.</summary>
public sealed class Flow
{
    public required int Id { get; init; }
    public required int[] Route { get; init; }
    public required double Bytes { get; init; }
    public required double LatencySeconds { get; init; }
    public required int Src { get; init; }
    public required int Dst { get; init; }
    public required int Owner { get; init; }
    /// <summary>What the flow stands for (see <see cref="Message"/>).</summary>
    public MessageKind Kind { get; init; }
    /// <summary>How many real flows per link this one stands for: its share of a shared link is that many fair shares.</summary>
    public double Weight { get; init; } = 1;
    /// <summary>Per hop of <see cref="Route"/>, how many times its rate the flow loads that link (null: once each).</summary>
    public double[]? HopScale { get; init; }
    public double Scale(int hop) => HopScale is null ? 1 : HopScale[hop];
    public double Remaining { get; set; }
    public double Rate { get; set; }
    public double StartSeconds { get; set; }
}

/// <summary>
/// Flow-level network: concurrent flows share each one-way link's capacity max-min fairly, computed by
/// progressive filling (the model SimGrid validated against packet-level simulation): repeatedly find the
/// link whose remaining capacity per unit of unfixed flow weight is smallest, give its flows that rate times
/// their weight, remove them. A coalesced flow weighs as many real flows as it stands for, so that it competes
/// with other traffic as they would, and may load a shared link several times its rate (<see cref="Flow.HopScale"/>).
/// </summary>
public sealed class FlowNetwork
{
    private readonly double[] _capacity;
    private readonly List<Flow> _active = [];
    private double _time;

    public FlowNetwork(double[] capacityBytesPerSecond) => _capacity = capacityBytesPerSecond;

    public IReadOnlyList<Flow> Active => _active;
    public double InjectedBytes { get; private set; }
    public double DeliveredBytes { get; private set; }
    public long Recomputes { get; private set; }

    public void Add(Flow f, double now)
    {
        AdvanceTo(now);
        f.Remaining = f.Bytes;
        f.StartSeconds = now;
        _active.Add(f);
        InjectedBytes += f.Bytes;
    }

    /// <summary>Moves every active flow forward to <paramref name="now"/> at its current rate.</summary>
    public void AdvanceTo(double now)
    {
        var dt = now - _time;
        if (dt > 0)
            foreach (var f in _active) f.Remaining -= f.Rate * dt;
        _time = Math.Max(_time, now);
    }

    /// <summary>Removes and returns the flows that have (to rounding) no bytes left.</summary>
    public List<Flow> TakeFinished()
    {
        var done = new List<Flow>();
        _active.RemoveAll(f =>
        {
            if (f.Remaining > f.Bytes * 1e-9 + 1e-6) return false;
            DeliveredBytes += f.Bytes;
            done.Add(f);
            return true;
        });
        return done;
    }

    /// <summary>Seconds until the next active flow finishes at current rates (infinity when idle).</summary>
    public double SecondsToNextFinish()
    {
        var best = double.PositiveInfinity;
        foreach (var f in _active)
            if (f.Rate > 0) best = Math.Min(best, Math.Max(0, f.Remaining) / f.Rate);
        return best;
    }

    // Scratch arrays reused by every recomputation (one slot per link), so a recomputation allocates nothing
    // proportional to the number of links.
    private double[] _remaining = [];
    private double[] _weight = [];
    private int[] _unfixed = [];
    private int[] _userStart = [];
    private int[] _cursor = [];
    private int[] _users = [];
    private readonly List<int> _touched = [];

    /// <summary>Max-min fair rates by progressive filling over the links the active flows use.</summary>
    public void Recompute()
    {
        Recomputes++;
        if (_active.Count == 0) return;
        var links = _capacity.Length;
        if (_remaining.Length != links)
        {
            _remaining = new double[links];
            _weight = new double[links];
            _unfixed = new int[links];
            _userStart = new int[links + 1];
            _cursor = new int[links];
        }
        // Count users per link, then lay the users out contiguously (CSR) in link order.
        _touched.Clear();
        var hops = 0;
        foreach (var f in _active)
        {
            f.Rate = double.NaN;
            for (var h = 0; h < f.Route.Length; h++)
            {
                var l = f.Route[h];
                if (_unfixed[l]++ == 0) _touched.Add(l);
                _weight[l] += f.Weight * f.Scale(h);
                hops++;
            }
        }
        _touched.Sort();
        if (_users.Length < hops) _users = new int[hops];
        var offset = 0;
        foreach (var l in _touched)
        {
            _userStart[l] = offset;
            offset += _unfixed[l];
            _remaining[l] = _capacity[l];
        }
        for (var i = 0; i < _active.Count; i++)
            foreach (var l in _active[i].Route)
                _users[_userStart[l] + _cursor[l]++] = i;
        // Min-heap of (fair share, link id), one entry per link. Fixing flows at the smallest share only raises other
        // links' shares, so an entry's key stays a lower bound: a popped link whose share has grown goes back in with
        // it, and the first popped link whose key is current is a true minimum. No push per update is needed.
        var heap = new PriorityQueue<int, (double, int)>(_touched.Count);
        foreach (var l in _touched) heap.Enqueue(l, (_remaining[l] / _weight[l], l));
        while (heap.TryDequeue(out var link, out var key))
        {
            if (_unfixed[link] == 0) continue;
            var share = _remaining[link] / _weight[link];
            if (share != key.Item1) { heap.Enqueue(link, (share, link)); continue; }
            for (var u = 0; u < _cursor[link]; u++)
            {
                var f = _active[_users[_userStart[link] + u]];
                if (!double.IsNaN(f.Rate)) continue;
                f.Rate = share * f.Weight;
                for (var h = 0; h < f.Route.Length; h++)
                {
                    var m = f.Route[h];
                    _remaining[m] = Math.Max(0, _remaining[m] - f.Rate * f.Scale(h));
                    _weight[m] = --_unfixed[m] == 0 ? 0 : Math.Max(0, _weight[m] - f.Weight * f.Scale(h));
                }
            }
        }
        foreach (var l in _touched) { _unfixed[l] = _cursor[l] = 0; _weight[l] = 0; }
        // A flow with an empty route (local messages never become flows) would stay NaN.
        foreach (var f in _active) if (double.IsNaN(f.Rate)) f.Rate = double.PositiveInfinity;
    }
}
