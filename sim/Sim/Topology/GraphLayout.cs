namespace Sim.Topology;

/// <summary>A box in a drawing of the cluster: one vertex, or a group of them when the drawing is summarised.</summary>
internal sealed record LayoutBox(string Label, VertexKind Kind, double X, double Y, int Members);

/// <summary>A line between two boxes: the links joining them (both directions), their tier and the fastest link's speed.</summary>
internal sealed record LayoutEdge(int From, int To, string Tier, double BytesPerSecond, int Links);

/// <summary>
/// Where to draw each part of a cluster graph: tiers stacked bottom to top (GPUs, node switches, NICs and
/// CPUs, leaves, spines, super-spines), each tier spread left to right in build order. One or two nodes are
/// drawn vertex by vertex; bigger clusters are summarised (a box per node, then per pod), so the picture
/// stays readable.
/// </summary>
internal sealed record GraphLayout(string Title, bool Summarised, IReadOnlyList<LayoutBox> Boxes, IReadOnlyList<LayoutEdge> Edges)
{
    /// <summary>GPUs up to which every vertex is drawn (two 8-GPU nodes).</summary>
    public const int DetailedGpuLimit = 16;
    /// <summary>Nodes up to which each node gets its own box; above, nodes are grouped by pod.</summary>
    public const int NodeBoxLimit = 64;

    public static GraphLayout Of(ClusterGraph g)
    {
        var c = g.Cluster;
        var detailed = g.WorldSize <= DetailedGpuLimit;
        var perPod = c.Nodes > NodeBoxLimit;
        var keys = new Dictionary<string, int>(StringComparer.Ordinal);
        var groups = new List<(string Label, VertexKind Kind, int Level, int Members, bool Count)>();
        var groupOf = new int[g.Vertices.Count];
        foreach (var v in g.Vertices)
        {
            var (key, label, kind, level, count) = Key(v, detailed, perPod, c, g.ScaleOut?.NodesPerPod ?? c.Nodes);
            if (!keys.TryGetValue(key, out var id))
            {
                id = groups.Count;
                keys[key] = id;
                groups.Add((label, kind, level, 0, count));
            }
            groups[id] = groups[id] with { Members = groups[id].Members + 1 };
            groupOf[v.Id] = id;
        }

        var levels = groups.Select(x => x.Level).Distinct().Order().ToList();
        var boxes = new LayoutBox[groups.Count];
        foreach (var level in levels)
        {
            var row = Enumerable.Range(0, groups.Count).Where(i => groups[i].Level == level).ToList();
            for (var j = 0; j < row.Count; j++)
            {
                var gr = groups[row[j]];
                var label = gr.Count ? $"{gr.Label} ({gr.Members})" : gr.Label;
                boxes[row[j]] = new LayoutBox(label, gr.Kind, (j + 0.5) / row.Count, levels.IndexOf(level), gr.Members);
            }
        }

        var edges = new Dictionary<(int, int, string), LayoutEdge>();
        foreach (var l in g.Links)
        {
            var a = groupOf[l.Source];
            var b = groupOf[l.Target];
            if (a == b) continue;
            var key = (Math.Min(a, b), Math.Max(a, b), l.TierName);
            edges[key] = edges.TryGetValue(key, out var e)
                ? e with { BytesPerSecond = Math.Max(e.BytesPerSecond, l.BytesPerSecond), Links = e.Links + 1 }
                : new LayoutEdge(key.Item1, key.Item2, l.TierName, l.BytesPerSecond, 1);
        }
        var title = $"{c.Name}: {g.WorldSize} GPUs in {c.Nodes} node{(c.Nodes == 1 ? "" : "s")}" + (detailed ? "" : perPod ? " (summarised per pod)" : " (summarised per node)");
        return new GraphLayout(title, !detailed, boxes, [.. edges.Values]);
    }

    /// <summary>The group a vertex is drawn in: itself, its node, or its pod's nodes or switches of one kind.</summary>
    private static (string Key, string Label, VertexKind Kind, int Level, bool Count) Key(ClusterVertex v, bool detailed, bool perPod, Cluster c, int nodesPerPod)
    {
        if (detailed) return ($"v{v.Id}", v.Name, v.Kind, v.Kind.Level(), false);
        var inNode = v.Node >= 0;
        if (inNode && !perPod) return ($"n{v.Node}", $"node {v.Node} ({c.GpusPerNode} GPUs)", VertexKind.Gpu, 0, false);
        if (inNode) return ($"p{v.Pod}.nodes", $"pod {v.Pod} ({nodesPerPod} nodes)", VertexKind.Gpu, 0, false);
        if (perPod && v.Pod >= 0)
        {
            var plural = v.Kind switch { VertexKind.Leaf => "leaves", VertexKind.Spine => "spines", _ => v.Kind.Word() + "s" };
            return ($"p{v.Pod}.{v.Kind}", $"pod {v.Pod} {plural}", v.Kind, v.Kind.Level(), true);
        }
        return ($"v{v.Id}", v.Name, v.Kind, v.Kind.Level(), false);
    }
}
