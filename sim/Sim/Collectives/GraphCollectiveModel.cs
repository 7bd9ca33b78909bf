using Sim.Cost;
using Sim.Nccl;
using Sim.Topology;

namespace Sim.Collectives;

/// <summary>
/// Collectives on the cluster graph: builds an algorithm's schedule, routes it once (ECMP-spread loads on
/// every link), then prices any message size as per-step latencies plus the slowest link's bytes over its
/// achieved bandwidth, under the fastest protocol. With <see cref="CollectiveAlgorithm.Auto"/> the fastest
/// applicable algorithm wins, as NCCL's tuner chooses. Routed schedules are cached, so a size sweep costs
/// one routing pass per algorithm. Not thread-safe: use one model per thread.
/// </summary>
internal sealed class GraphCollectiveModel
{
    private readonly Dictionary<(CollectiveOp, CollectiveAlgorithm, int), AnalysedSchedule> _cache = [];

    public ClusterGraph Graph { get; }
    public CostParameters Cost { get; }
    public CollectiveParameters Parameters { get; }

    public GraphCollectiveModel(ClusterGraph graph, CostParameters? cost = null, CollectiveParameters? parameters = null)
    {
        Graph = graph;
        Cost = cost ?? CostParameters.Default;
        Parameters = parameters ?? CollectiveParameters.Default;
    }

    /// <summary>Why <paramref name="algorithm"/> cannot run <paramref name="op"/> on the first <paramref name="ranks"/> ranks, or null if it can.</summary>
    public string? NotApplicable(CollectiveOp op, CollectiveAlgorithm algorithm, int ranks)
    {
        if (!CollectiveAlgorithms.For(op).Contains(algorithm))
            return $"{algorithm.Word()} is not an algorithm for {op.Word()} (choose from: {string.Join(", ", CollectiveAlgorithms.For(op).Select(a => a.Word()))})";
        var comm = new Communicator(Graph, ranks);
        return algorithm switch
        {
            CollectiveAlgorithm.Ring => RingSchedule.NotApplicable(comm),
            CollectiveAlgorithm.Tree => TreeSchedule.NotApplicable(comm),
            CollectiveAlgorithm.Hierarchical => HierarchicalAllReduce.NotApplicable(comm),
            _ => Collectives.AllToAllSchedule.NotApplicable(comm),
        };
    }

    public IReadOnlyList<CollectiveAlgorithm> Applicable(CollectiveOp op, int ranks) =>
        CollectiveAlgorithms.For(op).Where(a => NotApplicable(op, a, ranks) is null).ToList();

    /// <summary>
    /// What <see cref="CollectiveAlgorithm.Auto"/> compares. Pairwise all-to-all is left out above the exact
    /// rank limit: it never beats direct there (same bytes, a latency per step) and routing its steps is the
    /// costliest part of a sweep. Ask for it by name to see it.
    /// </summary>
    private IReadOnlyList<CollectiveAlgorithm> AutoCandidates(CollectiveOp op, int ranks) =>
        Applicable(op, ranks).Where(a => a != CollectiveAlgorithm.Pairwise || ranks <= Parameters.PairwiseExactRankLimit).ToList();

    /// <summary>
    /// One collective of <paramref name="bytes"/> (nccl-tests size, FP32 bytes) over the first
    /// <paramref name="ranks"/> ranks (all when null), sent in <paramref name="precision"/> (FP32 when null).
    /// </summary>
    public CollectiveEstimate Predict(CollectiveOp op, double bytes, int? ranks = null,
        CollectiveAlgorithm algorithm = CollectiveAlgorithm.Auto, CommPrecision? precision = null)
    {
        var n = ranks ?? Graph.WorldSize;
        if (n < 2 || n > Graph.WorldSize) throw new ArgumentOutOfRangeException(nameof(ranks), $"ranks must be 2 to {Graph.WorldSize}");
        if (!(bytes >= 0) || !double.IsFinite(bytes)) throw new ArgumentOutOfRangeException(nameof(bytes));
        precision ??= CommPrecision.Fp32;
        var candidates = algorithm == CollectiveAlgorithm.Auto ? AutoCandidates(op, n) : [algorithm];
        if (algorithm != CollectiveAlgorithm.Auto && NotApplicable(op, algorithm, n) is { } why)
            throw new InvalidOperationException(why);
        var (input, output) = CommPrecision.CodecBytes(op, bytes, n);
        var codec = precision.CodecSeconds(input, output, Parameters.RowElements, Graph.Cluster.Gpu, Cost);
        var wire = bytes * precision.WireFactor(Parameters.RowElements);
        return candidates
            .Select(a => Price(Analyse(op, a, n), bytes, wire, precision, codec))
            .MinBy(e => e.Seconds)!;
    }

    /// <summary>An all-to-all with any split (uneven shards, a hand-made matrix) over ranks 0..World−1.</summary>
    public CollectiveEstimate AllToAll(IAllToAllSplits splits, CollectiveAlgorithm algorithm = CollectiveAlgorithm.Auto, CommPrecision? precision = null)
    {
        var n = splits.World;
        if (n < 2 || n > Graph.WorldSize) throw new ArgumentOutOfRangeException(nameof(splits), $"an all-to-all needs 2 to {Graph.WorldSize} ranks");
        precision ??= CommPrecision.Fp32;
        var comm = new Communicator(Graph, n);
        var candidates = algorithm == CollectiveAlgorithm.Auto ? AutoCandidates(CollectiveOp.AllToAll, n) : [algorithm];
        if (algorithm != CollectiveAlgorithm.Auto && NotApplicable(CollectiveOp.AllToAll, algorithm, n) is { } why)
            throw new InvalidOperationException(why);
        // nccl-tests size of an uneven exchange: the largest per-rank send buffer (own piece included).
        // Only pieces that leave a rank are encoded, and only pieces that arrive are decoded.
        double sent = 0, encoded = 0, decoded = 0;
        for (var s = 0; s < n; s++)
        {
            double row = 0, rowOut = 0, colIn = 0;
            for (var d = 0; d < n; d++)
            {
                row += splits.Bytes(s, d);
                if (d != s) { rowOut += splits.Bytes(s, d); colIn += splits.Bytes(d, s); }
            }
            sent = Math.Max(sent, row);
            encoded = Math.Max(encoded, rowOut);
            decoded = Math.Max(decoded, colIn);
        }
        var codec = precision.CodecSeconds(encoded, decoded, Parameters.RowElements, Graph.Cluster.Gpu, Cost);
        var factor = precision.WireFactor(Parameters.RowElements);
        return candidates
            .Select(a => Price(AnalysedSchedule.Analyse(BuildAllToAll(comm, a, splits), Cost), sent, sent * factor, precision, codec, scale: factor))
            .MinBy(e => e.Seconds)!;
    }

    /// <summary>The routed schedule of an algorithm for a uniform collective of one payload byte (cached).</summary>
    public AnalysedSchedule Analyse(CollectiveOp op, CollectiveAlgorithm algorithm, int ranks)
    {
        var key = (op, algorithm, ranks);
        if (_cache.TryGetValue(key, out var hit)) return hit;
        var comm = new Communicator(Graph, ranks);
        var schedule = op switch
        {
            CollectiveOp.AllToAll => BuildAllToAll(comm, algorithm, new UniformAllToAll(ranks, 1)),
            CollectiveOp.AllReduce when algorithm == CollectiveAlgorithm.Tree => TreeSchedule.Build(comm),
            CollectiveOp.AllReduce when algorithm == CollectiveAlgorithm.Hierarchical => HierarchicalAllReduce.Build(comm),
            _ => RingSchedule.Build(comm, op),
        };
        var analysed = AnalysedSchedule.Analyse(schedule, Cost);
        _cache[key] = analysed;
        return analysed;
    }

    private CollectiveSchedule BuildAllToAll(Communicator comm, CollectiveAlgorithm algorithm, IAllToAllSplits splits) => algorithm switch
    {
        CollectiveAlgorithm.Direct => Collectives.AllToAllSchedule.Direct(comm, splits, 1),
        CollectiveAlgorithm.Pairwise => Collectives.AllToAllSchedule.Pairwise(comm, splits, 1, Parameters),
        CollectiveAlgorithm.Hierarchical => HierarchicalAllToAll.Build(comm, splits, 1),
        _ => throw new ArgumentException($"{algorithm.Word()} is not an all-to-all algorithm", nameof(algorithm)),
    };

    /// <summary>The fastest protocol for this schedule and size, plus the fixed call overhead and the codec passes.</summary>
    private CollectiveEstimate Price(AnalysedSchedule a, double bytes, double wireBytes, CommPrecision precision, double codecSeconds, double? scale = null)
    {
        var payload = scale ?? wireBytes;
        (ProtocolSpec P, double[] Phases, double Total) best = default;
        foreach (var p in Parameters.Protocols)
        {
            var phases = a.PhaseSeconds(p, Parameters, payload);
            var total = Cost.CollectiveOverheadSeconds + p.BaseSeconds + phases.Sum();
            if (best.P is null || total < best.Total) best = (p, phases, total);
        }
        var s = a.Schedule;
        var phaseList = s.Phases.Select((ph, i) => new PhaseEstimate(ph.Name, best.Phases![i])).ToList();
        return new CollectiveEstimate(s.Op, s.Algorithm, best.P!.Name, s.Communicator.Size, bytes, precision.Name, wireBytes,
            best.Total + codecSeconds, best.Total, codecSeconds, phaseList, a.BytesPerTier(payload));
    }
}
