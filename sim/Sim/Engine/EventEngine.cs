using Sim.Collectives;
using Sim.Cost;
using Sim.Topology;
using Sim.Iterations;

namespace Sim.Engine;

/// <summary>Counters of one simulation, for benchmarks and the conservation check.</summary>
/// <param name="FlowModel">exact flows, or how traffic was coalesced (<see cref="Coalescing"/>).</param>
public sealed record EngineStats(long Events, long Flows, long RateRecomputes, double InjectedBytes, double DeliveredBytes, string FlowModel);

/// <summary>A steady stream of another job between two GPUs, offered at <see cref="BytesPerSecond"/>.</summary>
public readonly record struct StreamDemand(int Src, int Dst, double BytesPerSecond);

/// <summary>A finished network flow, kept for traces.</summary>
public readonly record struct FlowRecord(int Task, int Src, int Dst, double Bytes, double StartSeconds, double EndSeconds);

/// <summary>
/// The link that was busiest over the iteration: bytes it carried over the capacity the job had on it (after efficiency
/// and background load). Under contention or a degraded fabric it is the link that sets the pace of the communication.
/// </summary>
public sealed record BusiestLink(string From, string To, string Tier, double BusySeconds);

/// <summary>The outcome of one simulated iteration.</summary>
public sealed record EngineRun(Timeline Timeline, EngineStats Stats, IReadOnlyList<FlowRecord> Flows)
{
    /// <summary>The busiest link (null when nothing crossed the network).</summary>
    public BusiestLink? BusiestLink { get; init; }
}

/// <summary>
/// Discrete-event simulation of one iteration: compute tasks take their modelled seconds on their rank;
/// collectives become stages of flows on the routed links of the cluster's network, sharing bandwidth
/// max-min fairly, each flow delivered one route latency after its last byte leaves. Events at equal times
/// run in the order they were scheduled, so results are deterministic.
/// </summary>
internal sealed class EventEngine
{
    private enum Kind { ComputeDone, CollectiveBegin, RankPartDone, NetworkTick, Delivered }
    private readonly record struct Event(Kind Kind, int Task, int Rank, long Epoch, Flow? Flow);

    private readonly Cluster _c;
    private readonly IterationGraph _g;
    private readonly CostParameters _p;
    private readonly INetwork _net;
    private readonly bool _recordFlows;
    private readonly Coalescing? _co;
    // On a fabric graph with node-group coalescing: per link, how much real traffic a representative flow stands for.
    private readonly (double[] AllToAll, double[] Ring)? _linkScale;
    private readonly Timeline _t;
    private readonly FlowNetwork _flows;
    private readonly IReadOnlyList<StreamDemand> _streams;
    private int _tasksDone;
    private readonly double[] _capacity;
    // Bytes each link carried (a coalesced flow loads a link its hop scale times its bytes).
    private readonly double[] _linkBytes;
    private readonly PriorityQueue<Event, (double, long)> _queue = new();
    private readonly List<FlowRecord> _records = [];
    private readonly int[] _waiting;
    private readonly List<int>[] _dependents;
    // Per collective in progress, its dependents indexed by rank (see RankIndex), so a rank's completion touches only its own.
    private readonly Dictionary<int, RankIndex> _byRank = new();
    private readonly Dictionary<int, CollectiveRun> _running = new();
    private readonly Dictionary<(MessageKind, int, int), int[]> _waiters = new();
    private long _seq, _events, _flowCount, _epoch;
    private double _now;

    /// <summary>
    /// A collective's dependents by what releases them: compute tasks by rank (CSR: those of rank r are
    /// <c>Compute[Start[r]..Start[r + 1]]</c>, in id order) and collectives, released when every rank is done.
    /// </summary>
    private sealed class RankIndex
    {
        public required int[] Start;
        public required int[] Compute;
        public required int[] Collectives;
    }

    /// <summary>A collective in progress: its remaining stages and what each rank still waits for.</summary>
    private sealed class CollectiveRun
    {
        public required IEnumerator<IReadOnlyList<Message>> Stages;
        public required bool PerRankCompletion;
        public int InStage;
        public int[] RankOutstanding = [];
        public required bool[] RankDone;
        public bool[] RankPending = [];
        public int RanksDone;
        /// <summary>The profile's measured curve for this collective (null: the link model stands).</summary>
        public MeasuredCollectives? Measured;
    }

    /// <summary>Above this many GPUs, all-to-all traffic between two nodes is simulated as one node-pair flow per direction.</summary>
    public const int DefaultCoalesceAboveRanks = 256;

    /// <summary>
    /// When coalescing, at most about this many node groups and GPU classes (class pairs, not GPU or node pairs,
    /// then become flows: 128² = 16,384 per all-to-all rather than 4 million node pairs at 2,048 nodes).
    /// </summary>
    public const int DefaultMaxNodeGroups = 128;

    private EventEngine(Cluster c, IterationGraph g, CostParameters p, bool recordFlows, int coalesceAboveRanks, int maxNodeGroups,
        Func<NetworkLink, double>? capacityShare, IReadOnlyList<StreamDemand>? streams)
    {
        _streams = streams ?? [];
        _c = c; _g = g; _p = p; _recordFlows = recordFlows;
        _net = c.BuildNetwork();
        if (c.WorldSize > coalesceAboveRanks) _co = Coalescing.For(c, _net, g, maxNodeGroups);
        if (_co is not null && _net is GraphNetwork graphNet) _linkScale = FabricMultiplicity.Compute(c, graphNet, _co);
        // Other jobs' steady traffic (background load) leaves this job a share of each link.
        var caps = _net.Links.Select(l => l.BytesPerSecond * CollectiveModel.Efficiency(p, l.Tier) * (capacityShare?.Invoke(l) ?? 1))
            // Each stream of another job gets a private link of its offered rate in front of its route: it takes at
            // most that rate, and less where max-min fairness gives it less.
            .Concat(_streams.Select(s => s.BytesPerSecond)).ToArray();
        _flows = new FlowNetwork(caps);
        _capacity = caps;
        _linkBytes = new double[caps.Length];
        _t = new Timeline(g);
        var n = g.Tasks.Count;
        _waiting = new int[n];
        _dependents = new List<int>[n];
        for (var i = 0; i < n; i++) _dependents[i] = [];
        foreach (var task in g.Tasks)
        {
            _waiting[task.Id] = task.Dependencies.Count;
            foreach (var d in task.Dependencies) _dependents[d].Add(task.Id);
        }
    }

    /// <param name="capacityShare">per link, the share of its capacity this job gets (null: all of it).</param>
    /// <param name="streams">other jobs' steady GPU-to-GPU streams, contending with this job's flows for the whole iteration.</param>
    public static EngineRun Run(Cluster c, IterationGraph g, CostParameters p, bool recordFlows = false,
        int coalesceAboveRanks = DefaultCoalesceAboveRanks, int maxNodeGroups = DefaultMaxNodeGroups, Func<NetworkLink, double>? capacityShare = null,
        IReadOnlyList<StreamDemand>? streams = null)
    {
        var e = new EventEngine(c, g, p, recordFlows, coalesceAboveRanks, maxNodeGroups, capacityShare, streams);
        e.Simulate();
        return new EngineRun(e._t, new EngineStats(e._events, e._flowCount, e._flows.Recomputes, e._flows.InjectedBytes, e._flows.DeliveredBytes, e._co?.Describe() ?? "exact flows"), e._records)
        {
            BusiestLink = e.Busiest(),
        };
    }

    private void Schedule(double time, Event e) => _queue.Enqueue(e, (time, _seq++));

    private void Simulate()
    {
        StartStreams();
        foreach (var task in _g.Tasks) if (task.Dependencies.Count == 0) Start(task.Id);
        while (_queue.TryDequeue(out var e, out var key))
        {
            // Other jobs' streams never end: the iteration does, when its last task is done.
            if (_streams.Count > 0 && _tasksDone == _g.Tasks.Count) break;
            _events++;
            _now = key.Item1;
            switch (e.Kind)
            {
                case Kind.ComputeDone:
                    _t.Finish[e.Task] = _now;
                    _tasksDone++;
                    Release(e.Task, -1);
                    break;
                case Kind.CollectiveBegin:
                    NextStage(e.Task);
                    break;
                case Kind.RankPartDone:
                    RankDone(e.Task, e.Rank, corrected: true);
                    break;
                case Kind.NetworkTick when e.Epoch == _epoch:
                    _flows.AdvanceTo(_now);
                    foreach (var f in _flows.TakeFinished())
                        Schedule(_now + f.LatencySeconds, new Event(Kind.Delivered, f.Owner, -1, 0, f));
                    Reschedule();
                    break;
                case Kind.Delivered:
                    Delivered(e.Flow!);
                    break;
            }
        }
        if (_waiting.Any(w => w > 0)) throw new InvalidOperationException("the iteration graph has a task that never became ready");
    }

    private void Start(int id)
    {
        var task = _g.Tasks[id];
        _t.Start[id] = _now;
        if (task.Kind == TaskKind.Compute)
        {
            Schedule(_now + task.Seconds, new Event(Kind.ComputeDone, id, task.Rank, 0, null));
            return;
        }
        var world = _c.WorldSize;
        _t.RankFinish[id] = new double[world];
        var stages = CollectiveStages.For(_c, task.Collective!, _co).GetEnumerator();
        var run = new CollectiveRun
        {
            Stages = stages, PerRankCompletion = task.Collective!.Kind == CollectiveKind.AllToAll, RankDone = new bool[world], RankPending = new bool[world],
            Measured = MeasuredCollectives.For(_c, _p, task.Collective),
        };
        _running[id] = run;
        _byRank[id] = IndexByRank(id);
        // A collective that moves nothing costs nothing (one GPU, or nothing to exchange), as in the analytical model.
        var any = task.Collective.Kind == CollectiveKind.AllToAll ? !task.Collective.Demand!.IsEmpty && world > 1 : task.Collective.Bytes > 0 && world > 1;
        if (!any && task.Collective.HostSeconds <= 0)
        {
            for (var r = 0; r < world; r++) RankDone(id, r);
            return;
        }
        if (!any)
        {
            // Nothing to move, but the framework work around it (casts, packing) still takes its time.
            Schedule(_now + task.Collective.HostSeconds, new Event(Kind.CollectiveBegin, id, -1, 0, null));
            return;
        }
        Schedule(_now + _p.CollectiveOverheadSeconds * (run.Measured?.Scale ?? 1) + task.Collective.HostSeconds, new Event(Kind.CollectiveBegin, id, -1, 0, null));
    }

    private void NextStage(int id)
    {
        // An all-to-all whose every rank is already done has been retired.
        if (!_running.TryGetValue(id, out var run)) return;
        while (run.Stages.MoveNext())
        {
            var stage = run.Stages.Current;
            if (stage.Count == 0) continue;
            run.InStage = stage.Count;
            run.RankOutstanding = new int[_c.WorldSize];
            var measuredScale = run.Measured?.Scale ?? 1;
            foreach (var m in stage)
            {
                foreach (var r in Waiters(m)) run.RankOutstanding[r]++;
                var full = _net.Route(m.Src, m.Dst);
                double latency = 0;
                foreach (var l in full) latency += _net.Links[l].LatencySeconds;
                latency *= m.Steps;
                var route = PortsOf(m, full);
                var scale = _linkScale is not { } ls ? null
                    : m.Kind == MessageKind.NodePair ? route.Select(l => ls.AllToAll[l]).ToArray()
                    : m.Kind == MessageKind.Ring ? route.Select(l => ls.Ring[l]).ToArray() : null;
                _flows.Add(new Flow { Id = (int)_flowCount++, Route = route as int[] ?? route.ToArray(), Bytes = m.Bytes * measuredScale, LatencySeconds = latency * measuredScale, Src = m.Src, Dst = m.Dst, Owner = id, Kind = m.Kind, Weight = m.Weight, HopScale = scale }, _now);
            }
            if (run.PerRankCompletion)
                for (var r = 0; r < _c.WorldSize; r++)
                    if (run.RankOutstanding[r] == 0) RankDone(id, r);
            Reschedule();
            return;
        }
        // No stage left: every rank not yet done is done now.
        for (var r = 0; r < _c.WorldSize && _running.ContainsKey(id); r++)
            if (!run.RankDone[r]) RankDone(id, r);
    }

    /// <summary>Other jobs' streams, from time 0: infinite bytes on a private link of their rate, then their route.</summary>
    private void StartStreams()
    {
        var links = _net.Links.Count;
        for (var i = 0; i < _streams.Count; i++)
        {
            var s = _streams[i];
            _flows.Add(new Flow
            {
                Id = (int)_flowCount++, Route = [links + i, .. _net.Route(s.Src, s.Dst)], Bytes = double.PositiveInfinity, LatencySeconds = 0,
                Src = s.Src, Dst = s.Dst, Owner = -1, Persistent = true,
            }, 0);
        }
        if (_streams.Count > 0) Reschedule();
    }

    private BusiestLink? Busiest()
    {
        var best = -1;
        var bestSeconds = 0.0;
        for (var l = 0; l < _net.Links.Count; l++)
        {
            var s = _capacity[l] > 0 ? _linkBytes[l] / _capacity[l] : 0;
            if (s > bestSeconds) { bestSeconds = s; best = l; }
        }
        if (best < 0) return null;
        var link = _net.Links[best];
        return new BusiestLink(link.From, link.To, link.TierName, bestSeconds);
    }

    private void Delivered(Flow f)
    {
        for (var hop = 0; hop < f.Route.Length; hop++) _linkBytes[f.Route[hop]] += f.Bytes * f.Scale(hop);
        var run = _running[f.Owner];
        // A measured collective's flows carry scaled bytes (see MeasuredCollectives); the trace shows the real ones.
        if (_recordFlows) _records.Add(new FlowRecord(f.Owner, f.Src, f.Dst, f.Bytes / (run.Measured?.Scale ?? 1), f.StartSeconds, _now));
        if (run.PerRankCompletion)
            foreach (var r in Waiters(new Message(f.Src, f.Dst, f.Bytes, f.Kind)))
                if (--run.RankOutstanding[r] == 0) RankDone(f.Owner, r);
        if (--run.InStage == 0) NextStage(f.Owner);
    }

    /// <summary>
    /// The links a message crosses: all of its route; a class message only the sender's and (or) the receiver's port;
    /// a node-group pair only the fabric core when class messages carry the ports (<see cref="Coalescing.SplitAtNics"/>).
    /// </summary>
    private IReadOnlyList<int> PortsOf(Message m, IReadOnlyList<int> route) => m.Kind switch
    {
        MessageKind.ClassSend => RouteParts.Send(route, _net.Links),
        MessageKind.ClassReceive => RouteParts.Receive(route, _net.Links),
        MessageKind.ClassPair => RouteParts.Ports(route, _net.Links),
        MessageKind.NodePair when _co is { SplitAtNics: true } => RouteParts.Core(route, _net.Links),
        _ => route,
    };

    /// <summary>The ranks whose part of a collective waits for a message.</summary>
    private int[] Waiters(Message m)
    {
        if (_co is null) return [m.Src, m.Dst];
        // A coalesced message's waiters depend only on its kind and ends, which recur (the backward all-to-all repeats
        // the forward's messages, and each message's delivery asks again): listed once.
        if (!_waiters.TryGetValue((m.Kind, m.Src, m.Dst), out var ranks))
            _waiters[(m.Kind, m.Src, m.Dst)] = ranks = _co.Waiters(m).ToArray();
        return ranks;
    }

    private void RankDone(int id, int rank, bool corrected = false)
    {
        var run = _running[id];
        if (run.RankDone[rank]) return;
        // A calibration profile's measured collective curve, then its correction of this phase, stretch (or shrink) the rank's part.
        if (!corrected)
        {
            if (run.RankPending[rank]) return;
            var elapsed = _now - _t.Start[id];
            if (run.Measured is { } measured) elapsed = measured.Stretch(rank, elapsed);
            var target = _t.Start[id] + _p.Corrected(_g.Tasks[id].Phase, elapsed);
            if (target > _now)
            {
                run.RankPending[rank] = true;
                Schedule(target, new Event(Kind.RankPartDone, id, rank, 0, null));
                return;
            }
        }
        run.RankDone[rank] = true;
        _t.RankFinish[id]![rank] = _now;
        Release(id, rank);
        if (++run.RanksDone == _c.WorldSize)
        {
            _t.Finish[id] = _now;
            _tasksDone++;
            _running.Remove(id);
            Release(id, -1);
            _byRank.Remove(id);
        }
    }

    /// <summary>A collective's dependents by rank, counting-sorted so each rank keeps them in id order (as the scan did).</summary>
    private RankIndex IndexByRank(int id)
    {
        var world = _c.WorldSize;
        var start = new int[world + 1];
        var collectives = new List<int>();
        var deps = _dependents[id];
        foreach (var d in deps)
        {
            var dep = _g.Tasks[d];
            if (dep.Kind == TaskKind.Compute) { if ((uint)dep.Rank < (uint)world) start[dep.Rank + 1]++; }
            else collectives.Add(d);
        }
        for (var r = 0; r < world; r++) start[r + 1] += start[r];
        var compute = new int[start[world]];
        var cursor = start.AsSpan(0, world).ToArray();
        foreach (var d in deps)
            if (_g.Tasks[d] is { Kind: TaskKind.Compute, Rank: var r } && (uint)r < (uint)world) compute[cursor[r]++] = d;
        return new RankIndex { Start = start, Compute = compute, Collectives = collectives.ToArray() };
    }

    /// <summary>
    /// Tells dependents that <paramref name="id"/> is done: for a collective, rank >= 0 releases that rank's
    /// compute tasks and rank -1 (all ranks done) releases dependent collectives; a compute task releases all.
    /// </summary>
    private void Release(int id, int rank)
    {
        if (_g.Tasks[id].Kind == TaskKind.Collective)
        {
            // Only the dependents of this rank's part (or, all ranks done, the dependent collectives): O(their number).
            var index = _byRank[id];
            if (rank >= 0)
            {
                for (var i = index.Start[rank]; i < index.Start[rank + 1]; i++)
                    if (--_waiting[index.Compute[i]] == 0) Start(index.Compute[i]);
            }
            else
                foreach (var d in index.Collectives)
                    if (--_waiting[d] == 0) Start(d);
            return;
        }
        foreach (var d in _dependents[id])
            if (--_waiting[d] == 0) Start(d);
    }

    private void Reschedule()
    {
        _flows.Recompute();
        _epoch++;
        var at = _flows.NextFinish();
        if (double.IsPositiveInfinity(at)) return;
        // Late in a long iteration a tiny step vanishes in rounding: the tick would come at the same time, move no
        // bytes and reschedule itself for ever. Step at least to the next representable time.
        if (at <= _now) at = Math.BitIncrement(_now);
        Schedule(at, new Event(Kind.NetworkTick, -1, -1, _epoch, null));
    }
}
