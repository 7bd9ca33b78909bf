namespace Sim.Engine;

/// <summary>A message in flight: bytes left on a fixed route, at the rate max-min fairness gives it.</summary>
internal sealed class Flow
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
    /// <summary>Another job's steady stream: it never finishes (infinite bytes) and takes its fair share for the whole run.</summary>
    public bool Persistent { get; init; }
    /// <summary>How many real flows per link this one stands for: its share of a shared link is that many fair shares.</summary>
    public double Weight { get; init; } = 1;
    /// <summary>Per hop of <see cref="Route"/>, how many times its rate the flow loads that link (null: once each).</summary>
    public double[]? HopScale { get; init; }
    public double Scale(int hop) => HopScale is null ? 1 : HopScale[hop];
    /// <summary>Bytes left when the network last settled the flow (see <see cref="FlowNetwork.AdvanceTo"/>).</summary>
    public double Remaining { get; set; }
    public double Rate { get; set; }
    public double StartSeconds { get; set; }
    /// <summary>Delivered: its links drop it at their next recomputation.</summary>
    internal bool Done;
    /// <summary>The recomputation that last reached this flow (see <see cref="FlowNetwork.Recompute"/>).</summary>
    internal long Stamp;
    /// <summary>The fair share per unit of weight at which progressive filling fixed its rate (+infinity: not yet).</summary>
    internal double Level;
    /// <summary>When <see cref="Remaining"/> was last brought up to date.</summary>
    internal double Updated;
    /// <summary>Bumped at each change of rate: the network's finish-time entries of older versions are stale.</summary>
    internal int Version;
    /// <summary>The order flows were added in.</summary>
    internal long Seq;
    internal double OldRate;
}

/// <summary>
/// Flow-level network: concurrent flows share each one-way link's capacity max-min fairly, computed by
/// progressive filling (the model SimGrid validated against packet-level simulation): repeatedly find the
/// link whose remaining capacity per unit of unfixed flow weight is smallest, give its flows that rate times
/// their weight, remove them. A coalesced flow weighs as many real flows as it stands for, so that it competes
/// with other traffic as they would, and may load a shared link several times its rate (<see cref="Flow.HopScale"/>).
/// Rates are recomputed incrementally (see <see cref="Recompute"/>): only flows that the flows added or delivered
/// since the last recomputation can affect, over the links they reach; the result equals a full recomputation
/// (<c>FlowNetworkIncrementalTests</c> checks it on random networks). Bytes left are settled lazily, when a flow's
/// rate changes, and the next finish comes from a heap, so an event costs nothing per untouched flow.
/// </summary>
internal sealed class FlowNetwork
{
    private readonly double[] _capacity;
    private readonly List<Flow> _active = [];
    // Per link, its flows' hops in the order they were added (a route crossing a link twice is there twice); delivered
    // flows are dropped when the link is next reached.
    private readonly List<(Flow Flow, int Hop)>?[] _users;
    private readonly long[] _linkStamp;
    private readonly List<int> _dirty = [];
    // The lowest level (see Flow.Level) of a flow delivered since the last recomputation; -infinity once one was added.
    private double _floor = double.PositiveInfinity;
    private long _stamp;
    private double _time;

    public FlowNetwork(double[] capacityBytesPerSecond)
    {
        _capacity = capacityBytesPerSecond;
        var links = _capacity.Length;
        _users = new List<(Flow, int)>?[links];
        _linkStamp = new long[links];
        _remaining = new double[links];
        _weight = new double[links];
        _unfixed = new int[links];
    }

    /// <summary>The flows not yet delivered, in the order they were added.</summary>
    public IReadOnlyList<Flow> Active
    {
        get
        {
            Compact();
            return _active;
        }
    }

    public double InjectedBytes { get; private set; }
    public double DeliveredBytes { get; private set; }
    public long Recomputes { get; private set; }
    /// <summary>Flows whose rates the recomputations so far have set (a full recomputation would count every active flow each time).</summary>
    public long FlowsRecomputed { get; private set; }

    // Flows by the time they finish at their current rates, and by the time they come within the rounding tolerance of
    // finishing (TakeFinished's test); entries of an older version of a flow's rate are stale and skipped.
    private readonly PriorityQueue<(Flow Flow, int Version), double> _byFinish = new();
    private readonly PriorityQueue<(Flow Flow, int Version), double> _byTake = new();
    private int _live, _delivered;
    private long _seq;

    public void Add(Flow f, double now)
    {
        AdvanceTo(now);
        f.Remaining = f.Bytes;
        f.StartSeconds = now;
        f.Updated = _time;
        f.Done = false;
        f.Level = double.PositiveInfinity;
        f.Seq = _seq++;
        f.Version++;
        f.Rate = 0;
        _active.Add(f);
        _live++;
        if (!f.Persistent) InjectedBytes += f.Bytes;
        if (f.Route.Length == 0)
        {
            // A flow with an empty route (local messages never become flows) crosses no link: nothing limits it.
            f.Rate = double.PositiveInfinity;
            Push(f);
            return;
        }
        _floor = double.NegativeInfinity;
        for (var h = 0; h < f.Route.Length; h++)
        {
            var l = f.Route[h];
            (_users[l] ??= []).Add((f, h));
            _dirty.Add(l);
        }
    }

    /// <summary>
    /// Moves the network's clock to <paramref name="now"/>. Flows move at their current rates; their bytes left are
    /// settled when their rate changes or they are taken, so this costs nothing per flow.
    /// </summary>
    public void AdvanceTo(double now) => _time = Math.Max(_time, now);

    private void Settle(Flow f)
    {
        var dt = _time - f.Updated;
        if (dt > 0) f.Remaining -= f.Rate * dt;
        f.Updated = _time;
    }

    private static double Tolerance(Flow f) => f.Bytes * 1e-9 + 1e-6;

    private void Push(Flow f)
    {
        // A persistent flow never finishes: it has no place in the finish-time heaps (inf - inf would be NaN there).
        if (!(f.Rate > 0) || f.Persistent) return;
        _byFinish.Enqueue((f, f.Version), f.Updated + Math.Max(0, f.Remaining) / f.Rate);
        _byTake.Enqueue((f, f.Version), f.Updated + (f.Remaining - Tolerance(f)) / f.Rate);
        // Stale entries pile up as rates change: start afresh from the live flows when they outnumber them.
        if (_byTake.Count > 4 * _live + 1024) Rebuild();
    }

    private void Rebuild()
    {
        Compact();
        _byFinish.Clear();
        _byTake.Clear();
        foreach (var f in _active)
            if (f.Rate > 0 && !f.Persistent)
            {
                _byFinish.Enqueue((f, f.Version), f.Updated + Math.Max(0, f.Remaining) / f.Rate);
                _byTake.Enqueue((f, f.Version), f.Updated + (f.Remaining - Tolerance(f)) / f.Rate);
            }
    }

    private void Compact()
    {
        if (_delivered == 0) return;
        _active.RemoveAll(f => f.Done);
        _delivered = 0;
    }

    private static bool Stale((Flow Flow, int Version) e) => e.Flow.Done || e.Flow.Version != e.Version;

    /// <summary>Removes and returns the flows that have (to rounding) no bytes left, in the order they were added.</summary>
    public List<Flow> TakeFinished()
    {
        var done = new List<Flow>();
        while (_byTake.TryPeek(out var e, out var at) && at <= _time)
        {
            _byTake.Dequeue();
            if (Stale(e)) continue;
            var f = e.Flow;
            Settle(f);
            DeliveredBytes += f.Bytes;
            Remove(f);
            done.Add(f);
        }
        if (done.Count > 1) done.Sort((x, y) => x.Seq.CompareTo(y.Seq));
        return done;
    }

    /// <summary>Takes <paramref name="f"/> out of the network, whatever it has left.</summary>
    public void Remove(Flow f)
    {
        if (f.Done) return;
        f.Done = true;
        _live--;
        _delivered++;
        foreach (var l in f.Route) _dirty.Add(l);
        _floor = Math.Min(_floor, f.Level);
        if (_delivered > _live + 1024) Compact();
    }

    /// <summary>Seconds until the next active flow finishes at current rates (infinity when idle).</summary>
    public double SecondsToNextFinish() => Math.Max(0, NextFinish() - _time);

    /// <summary>When the next active flow finishes at current rates (infinity when idle).</summary>
    public double NextFinish()
    {
        while (_byFinish.TryPeek(out var e, out var at))
        {
            if (Stale(e)) { _byFinish.Dequeue(); continue; }
            return at;
        }
        return double.PositiveInfinity;
    }

    // Scratch state reused by every recomputation (one slot per link), so a recomputation allocates nothing
    // proportional to the number of links.
    private readonly double[] _remaining;
    private readonly double[] _weight;
    private readonly int[] _unfixed;
    private readonly List<int> _links = [];
    private readonly List<Flow> _reached = [];
    private readonly PriorityQueue<int, (double, int)> _heap = new();

    /// <summary>How far below the lowest delivered flow's level flows are refilled, against rounding in the levels.</summary>
    private const double FloorMargin = 1e-9;

    /// <summary>
    /// Max-min fair rates by progressive filling, over only what the flows added or delivered since the last
    /// recomputation can change. Flows fixed at a level (fair share per unit of weight) below the lowest delivered
    /// flow's keep their rates: up to that level the filling saturates the same links at the same levels with or
    /// without the delivered flows (a link carrying one saturates no earlier than that flow's level, and removing a
    /// flow only lowers a link's load). The rest are refilled from the capacity those flows leave, over the component
    /// of links and refilled flows that the changed links reach; flows beyond it share no link with refilled ones, so
    /// their rates cannot change. An added flow refills its whole component.
    /// </summary>
    public void Recompute()
    {
        Recomputes++;
        if (_dirty.Count == 0) return;
        var floor = _floor == double.NegativeInfinity ? _floor : _floor - Math.Abs(_floor) * FloorMargin;
        _floor = double.PositiveInfinity;
        // The component: links reached from the changed links through the flows to refill, breadth first. Once a
        // link's flows are scanned each is refilled or kept for good, so the same pass sums each link's capacity less
        // what its kept flows take and the weight of its flows to refill, in the order the flows were added (as a
        // full recomputation sums them).
        var stamp = ++_stamp;
        _links.Clear();
        _reached.Clear();
        _heap.Clear();
        foreach (var l in _dirty)
            if (_linkStamp[l] != stamp) { _linkStamp[l] = stamp; _links.Add(l); }
        _dirty.Clear();
        // Only the changed links can hold delivered flows (a delivered flow marks all of its links).
        var changed = _links.Count;
        for (var i = 0; i < _links.Count; i++)
        {
            var l = _links[i];
            var users = _users[l]!;
            if (i < changed) users.RemoveAll(u => u.Flow.Done);
            double w = 0, kept = 0;
            var unfixed = 0;
            foreach (var (f, h) in users)
            {
                if (f.Stamp != stamp)
                {
                    if (f.Level < floor) { kept += f.Rate * f.Scale(h); continue; }
                    f.Stamp = stamp;
                    Settle(f);
                    f.OldRate = f.Rate;
                    f.Rate = double.NaN;
                    _reached.Add(f);
                    foreach (var m in f.Route)
                        if (_linkStamp[m] != stamp) { _linkStamp[m] = stamp; _links.Add(m); }
                }
                w += f.Weight * f.Scale(h);
                unfixed++;
            }
            if (unfixed == 0) continue;
            _unfixed[l] = unfixed;
            _remaining[l] = kept == 0 ? _capacity[l] : Math.Max(0, _capacity[l] - kept);
            _weight[l] = w;
            _heap.Enqueue(l, (_remaining[l] / _weight[l], l));
        }
        // Min-heap of (fair share, link id), one entry per link. Fixing flows at the smallest share only raises other
        // links' shares, so an entry's key stays a lower bound: a popped link whose share has grown goes back in with
        // it, and the first popped link whose key is current is a true minimum. No push per update is needed.
        while (_heap.TryDequeue(out var link, out var key))
        {
            if (_unfixed[link] == 0) continue;
            var share = _remaining[link] / _weight[link];
            if (share != key.Item1) { _heap.Enqueue(link, (share, link)); continue; }
            foreach (var (f, _) in _users[link]!)
            {
                if (!double.IsNaN(f.Rate)) continue;
                f.Rate = share * f.Weight;
                f.Level = share;
                for (var h = 0; h < f.Route.Length; h++)
                {
                    var m = f.Route[h];
                    _remaining[m] = Math.Max(0, _remaining[m] - f.Rate * f.Scale(h));
                    _weight[m] = --_unfixed[m] == 0 ? 0 : Math.Max(0, _weight[m] - f.Weight * f.Scale(h));
                }
            }
        }
        foreach (var l in _links) { _unfixed[l] = 0; _weight[l] = 0; }
        // A flow that no link limits (all its hops weigh nothing) would stay NaN.
        foreach (var f in _reached)
        {
            if (double.IsNaN(f.Rate)) { f.Rate = double.PositiveInfinity; f.Level = double.PositiveInfinity; }
            // A flow whose rate did not change keeps its finish times.
            if (f.Rate == f.OldRate) continue;
            f.Version++;
            Push(f);
        }
        FlowsRecomputed += _reached.Count;
    }
}
