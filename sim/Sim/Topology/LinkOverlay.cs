using Sim.Config;

namespace Sim.Topology;

/// <summary>What an overlay entry names: a cable between two vertices, every link of a switch or NIC, or a whole tier.</summary>
public enum OverlayTarget { Link, Switch, Nic, Tier }

/// <summary>
/// One change of a <see cref="LinkOverlay"/>: the links <see cref="Name"/> selects run at <see cref="SpeedFraction"/>
/// of their speed (0: down). <see cref="Spot"/> is where it was written, for errors found against the graph.
/// </summary>
public sealed record OverlayEntry(OverlayTarget Target, string Name, double SpeedFraction, InputSpot Spot)
{
    public bool Down => SpeedFraction == 0;

    public string Describe() => $"{Target.ToString().ToLowerInvariant()} {Name} " +
        (Down ? "down" : $"at {SpeedFraction.ToString("P0", System.Globalization.CultureInfo.InvariantCulture)}");
}

/// <summary>
/// Degraded hardware laid over a cluster graph: links, NICs or switches taken down or slowed. Applied to the graph
/// before routing (<see cref="Cluster.BuildGraph"/>), so ECMP chooses only among the paths left and every collective
/// routes around what is gone. An overlay that names nothing in the graph, or that cuts a GPU off from the others,
/// is an input error at the entry's file:line:field.
/// </summary>
public sealed record LinkOverlay(IReadOnlyList<OverlayEntry> Entries, string Source)
{
    public static readonly IReadOnlySet<VertexKind> SwitchKinds = new HashSet<VertexKind>
    {
        VertexKind.NvSwitch, VertexKind.PcieSwitch, VertexKind.Leaf, VertexKind.Spine, VertexKind.SuperSpine, VertexKind.Switch,
    };

    public string Describe() => $"{Source}: {string.Join("; ", Entries.Select(e => e.Describe()))}";

    /// <summary>The graph with every entry applied: links down removed, slowed links at their fraction of speed.</summary>
    public ClusterGraph Apply(ClusterGraph g)
    {
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var v in g.Vertices) byName.TryAdd(v.Name, v.Id);
        var factors = new double[g.Links.Count];
        Array.Fill(factors, 1.0);
        var perEntry = Entries.Select(e => Select(g, byName, e)).ToArray();
        for (var i = 0; i < Entries.Count; i++)
            foreach (var l in perEntry[i]) factors[l] *= Entries[i].SpeedFraction;
        if (CutOff(g, factors) is { } cut)
        {
            // Name the first entry after which the cluster falls apart: replay the entries one by one.
            var partial = new double[g.Links.Count];
            Array.Fill(partial, 1.0);
            for (var i = 0; i < Entries.Count; i++)
            {
                foreach (var l in perEntry[i]) partial[l] *= Entries[i].SpeedFraction;
                if (CutOff(g, partial) is { } c)
                    throw Entries[i].Spot.Error($"{Entries[i].Describe()} cuts {c} off from the rest of the cluster; the plan needs every GPU, so it cannot run");
            }
            throw Entries[^1].Spot.Error($"the overlay cuts {cut} off from the rest of the cluster; the plan needs every GPU");
        }
        return g.WithLinkSpeeds(factors);
    }

    private static List<int> Select(ClusterGraph g, Dictionary<string, int> byName, OverlayEntry e)
    {
        var links = new List<int>();
        switch (e.Target)
        {
            case OverlayTarget.Tier:
                if (!TierNames.All.Contains(e.Name))
                    throw e.Spot.Error($"unknown tier '{e.Name}'; expected one of: {string.Join(", ", TierNames.All)}");
                links.AddRange(g.Links.Where(l => l.TierName == e.Name).Select(l => l.Id));
                if (links.Count == 0) throw e.Spot.Error($"'{g.Cluster.Name}' has no {e.Name} links");
                break;
            case OverlayTarget.Link:
                var ends = e.Name.Split("--", StringSplitOptions.TrimEntries);
                if (ends.Length != 2) throw e.Spot.Error($"expected a cable as VERTEX--VERTEX (e.g. p0.leaf0--p0.spine1), found '{e.Name}'");
                var a = Vertex(g, byName, e, ends[0]);
                var b = Vertex(g, byName, e, ends[1]);
                links.AddRange(g.Links.Where(l => (l.Source == a && l.Target == b) || (l.Source == b && l.Target == a)).Select(l => l.Id));
                if (links.Count == 0) throw e.Spot.Error($"no link joins {ends[0]} and {ends[1]}");
                break;
            default:
                var v = Vertex(g, byName, e, e.Name);
                var kind = g.Vertices[v].Kind;
                var wanted = e.Target == OverlayTarget.Nic ? kind == VertexKind.Nic : SwitchKinds.Contains(kind);
                if (!wanted) throw e.Spot.Error($"{e.Name} is a {kind.Word()}, not a {(e.Target == OverlayTarget.Nic ? "NIC" : "switch")}");
                links.AddRange(g.Links.Where(l => l.Source == v || l.Target == v).Select(l => l.Id));
                break;
        }
        return links;
    }

    private static int Vertex(ClusterGraph g, Dictionary<string, int> byName, OverlayEntry e, string name)
    {
        if (byName.TryGetValue(name, out var v)) return v;
        var examples = g.Vertices.Where(x => x.Kind is VertexKind.Spine or VertexKind.Leaf or VertexKind.Switch or VertexKind.Nic)
            .Select(x => x.Name).Take(4);
        throw e.Spot.Error($"'{g.Cluster.Name}' has no vertex '{name}' (names look like: {string.Join(", ", examples)}; `sim topology describe` lists them)");
    }

    /// <summary>A GPU that cannot reach, or be reached from, the first GPU over links still up (null: none).</summary>
    private static string? CutOff(ClusterGraph g, double[] factors)
    {
        if (g.WorldSize < 2) return null;
        var start = g.VertexOfRank(0);
        foreach (var forward in new[] { true, false })
        {
            var seen = new bool[g.Vertices.Count];
            var queue = new Queue<int>();
            seen[start] = true;
            queue.Enqueue(start);
            while (queue.Count > 0)
            {
                var u = queue.Dequeue();
                if (u != start && !g.Forwards(u)) continue;
                var (starts, ids) = forward ? (g.OutStart, g.OutIds) : (g.InStart, g.InIds);
                for (var i = starts[u]; i < starts[u + 1]; i++)
                {
                    var l = ids[i];
                    if (factors[l] <= 0) continue;
                    var to = forward ? g.LinkTarget[l] : g.LinkSource[l];
                    if (seen[to]) continue;
                    seen[to] = true;
                    queue.Enqueue(to);
                }
            }
            for (var r = 0; r < g.WorldSize; r++)
                if (!seen[g.VertexOfRank(r)]) return $"{g.Vertices[g.VertexOfRank(r)].Name} (GPU {r})";
        }
        return null;
    }
}
