using Sim.Interop.Chakra.Proto;
using Sim.Topology;
using Sim.Iterations;

namespace Sim.Interop.Chakra;

/// <summary>One rank's Chakra execution trace: the GlobalMetadata message and the nodes in file order.</summary>
internal sealed record ChakraTrace(GlobalMetadata Metadata, IReadOnlyList<Node> Nodes);

/// <summary>
/// Turns Sim's iteration graph into one Chakra trace per rank. What maps to what:
/// <list type="bullet">
/// <item>a compute task of the rank: a <c>COMP_NODE</c> whose <c>duration_micros</c> is the task's priced seconds
/// rounded to whole microseconds (ASTRA-sim replays it for that long; the exact seconds are in <c>sim_seconds</c>);</item>
/// <item>a collective: a <c>COMM_COLL_NODE</c> (<c>ALL_REDUCE</c> or <c>ALL_TO_ALL</c>) in group
/// <see cref="ChakraCommGroups.WorldId"/> with <c>comm_size</c> in bytes, preceded by a <c>COMP_NODE</c>
/// "PHASE.host" when the collective has host work before its messages leave (bucketising); its duration_micros is
/// Sim's time for the rank's part without that host work (informative: ASTRA-sim times the collective itself).
/// A collective that moves no bytes is a <c>COMP_NODE</c> of Sim's time;</item>
/// <item>dependencies: <c>data_deps</c> (what both Chakra feeders resolve), the graph's edges between tasks this
/// rank takes part in. An edge from another rank's compute task to a collective is left out: a rank's trace names
/// only its own nodes, and the collective itself waits for its peers.</item>
/// </list>
/// All-reduce <c>comm_size</c> is the bytes every rank reduces. ASTRA-sim runs an all-to-all as an even exchange in
/// which each rank holds <c>comm_size</c> bytes and sends 1/N of them to each of the N-1 others; Sim's embedding
/// all-to-alls are uneven, so <c>comm_size</c> is set so that every rank moves what the busiest rank of Sim's
/// exchange sends or receives over the network: max over ranks of max(sent, received) x N/(N-1). Each rank's own
/// bytes are kept in <c>sim_send_bytes</c> and <c>sim_recv_bytes</c>.
/// Node ids run 0, 1, 2... per rank in file order, which is a topological order.
/// </summary>
internal sealed class ChakraTraceBuilder(IterationGraph graph, Cluster cluster, string workloadName)
{
    // Per collective task id: comm_size, and each rank's bytes of an all-to-all (computed once, not once per rank).
    private readonly Dictionary<int, (long Bytes, Collectives.TierBytes[]? PerRank)> _collectives = new();

    public int World => graph.World;

    /// <summary>The trace of <paramref name="rank"/>.</summary>
    public ChakraTrace ForRank(int rank)
    {
        if (rank < 0 || rank >= graph.World) throw new ArgumentOutOfRangeException(nameof(rank));
        var metadata = new GlobalMetadata { Version = ChakraAttributes.SchemaVersion };
        metadata.Attr.Add(Str("exporter", "Sim (sim export chakra)"));
        metadata.Attr.Add(Str("topology", cluster.Name));
        metadata.Attr.Add(Str("workload", workloadName));
        metadata.Attr.Add(I64("rank", rank));
        metadata.Attr.Add(I64("world_size", graph.World));

        var nodes = new List<Node>(graph.Tasks.Count / Math.Max(1, graph.World) + 16);
        var nodeOfTask = new Dictionary<int, ulong>();
        foreach (var t in graph.Tasks)
        {
            if (t.Kind == TaskKind.Compute && t.Rank != rank) continue;
            var deps = new List<ulong>(t.Dependencies.Count);
            foreach (var d in t.Dependencies)
                if (nodeOfTask.TryGetValue(d, out var parent)) deps.Add(parent);
            deps.Sort();
            var seconds = t.SecondsFor(rank);

            if (t.Kind == TaskKind.Compute)
            {
                nodeOfTask[t.Id] = Add(nodes, Comp($"{t.Phase}", t.Id, seconds), deps);
                continue;
            }
            var spec = t.Collective!;
            var (bytes, perRank) = Collective(t);
            if (bytes == 0)
            {
                nodeOfTask[t.Id] = Add(nodes, Comp($"{t.Phase}", t.Id, seconds), deps);
                continue;
            }
            if (spec.HostSeconds > 0)
            {
                var host = Add(nodes, Comp($"{t.Phase}.host", t.Id, spec.HostSeconds), deps);
                deps = [host];
                seconds = Math.Max(0, seconds - spec.HostSeconds);
            }
            var coll = new Node
            {
                Name = t.Phase,
                Type = NodeType.CommCollNode,
                DurationMicros = Micros(seconds),
            };
            coll.Attr.Add(new AttributeProto { Name = ChakraAttributes.IsCpuOp, BoolVal = false });
            coll.Attr.Add(I64(ChakraAttributes.CommType, (long)(spec.Kind == CollectiveKind.AllReduce ? CollectiveCommType.AllReduce : CollectiveCommType.AllToAll)));
            coll.Attr.Add(I64(ChakraAttributes.CommSize, bytes));
            coll.Attr.Add(Str(ChakraAttributes.ProcessGroup, ChakraCommGroups.WorldId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            coll.Attr.Add(I64(ChakraAttributes.SimTaskId, t.Id));
            coll.Attr.Add(new AttributeProto { Name = ChakraAttributes.SimSeconds, DoubleVal = seconds });
            if (perRank is not null)
            {
                var mine = perRank[rank];
                coll.Attr.Add(I64(ChakraAttributes.SimSendBytes, (long)Math.Round(mine.Sent)));
                coll.Attr.Add(I64(ChakraAttributes.SimRecvBytes, (long)Math.Round(mine.Received)));
            }
            nodeOfTask[t.Id] = Add(nodes, coll, deps);
        }
        return new ChakraTrace(metadata, nodes);
    }

    private (long Bytes, Collectives.TierBytes[]? PerRank) Collective(IterationTask t)
    {
        if (_collectives.TryGetValue(t.Id, out var known)) return known;
        var spec = t.Collective!;
        return _collectives[t.Id] = (CommSizeBytes(spec, cluster), spec.Demand?.PerRank(cluster));
    }

    /// <summary>
    /// <c>comm_size</c> of a collective in bytes (the same on every rank): the all-reduced bytes, or for an all-to-all
    /// the even per-rank buffer whose network share equals the busiest rank's traffic (see the class remarks); 0 when
    /// nothing crosses the network.
    /// </summary>
    public static long CommSizeBytes(CollectiveSpec spec, Cluster cluster)
    {
        if (spec.Kind == CollectiveKind.AllReduce) return cluster.WorldSize > 1 ? (long)Math.Round(spec.Bytes) : 0;
        var demand = spec.Demand!;
        if (demand.World < 2) return 0;
        double busiest = 0;
        foreach (var b in demand.PerRank(cluster)) busiest = Math.Max(busiest, Math.Max(b.Sent, b.Received));
        return (long)Math.Round(busiest * demand.World / (demand.World - 1));
    }

    /// <summary>Seconds as Chakra's whole microseconds (rounded to nearest).</summary>
    public static ulong Micros(double seconds) => (ulong)Math.Round(Math.Max(0, seconds) * 1e6, MidpointRounding.AwayFromZero);

    private static Node Comp(string name, int taskId, double seconds)
    {
        var n = new Node { Name = name, Type = NodeType.CompNode, DurationMicros = Micros(seconds) };
        n.Attr.Add(new AttributeProto { Name = ChakraAttributes.IsCpuOp, BoolVal = false });
        n.Attr.Add(I64(ChakraAttributes.SimTaskId, taskId));
        n.Attr.Add(new AttributeProto { Name = ChakraAttributes.SimSeconds, DoubleVal = seconds });
        return n;
    }

    private static ulong Add(List<Node> nodes, Node node, List<ulong> deps)
    {
        node.Id = (ulong)nodes.Count;
        node.DataDeps.Add(deps);
        nodes.Add(node);
        return node.Id;
    }

    private static AttributeProto I64(string name, long value) => new() { Name = name, Int64Val = value };
    private static AttributeProto Str(string name, string value) => new() { Name = name, StringVal = value };
}
