using System.Text.Json;
using Sim.Interop.Chakra;
using Sim.Interop.Chakra.Proto;
using Sim.Predictions;
using Sim.Topology;
using Sim.Iterations;

namespace Sim.Tests;

/// <summary>
/// `sim export chakra`: Sim's iteration graph written as Chakra execution traces (one per rank) and read back with the
/// schema's generated parser in Chakra's length-delimited framing; every node checked against the graph it came from.
/// </summary>
public class ChakraExportTests
{
    private const string Mixed =
        "name: mixed\nschedule: {all_reduce_buckets: 2, pipeline_embeddings: true}\n" +
        "tables: {a: {scheme: table_row_wise, ranks: [4, 5, 6, 7], memory: uvm_caching, cache_fraction: 0.25}, b: {scheme: table_wise, ranks: [5], memory: uvm}, c: {scheme: data_parallel}, d: {scheme: table_column_wise, ranks: [2, 3]}}";

    public static TheoryData<string?> Plans => new(null, Mixed);

    private static (Cluster Cluster, IterationGraph Graph) Graph(string? planYaml, int nodes = 2, int gpus = 4)
    {
        var c = Fixtures.Cluster(nodes, gpus);
        var w = Fixtures.Workload();
        var plan = planYaml is null ? Fixtures.Greedy(c, w) : Fixtures.Plan(planYaml, w, c);
        return (c, Predictor.ForWorkload(w).Graph(new Scenario(c, w, plan)));
    }

    private static ChakraTrace[] ExportAndRead(string? planYaml, Fixtures.TempDir dir, out Cluster cluster, out IterationGraph graph)
    {
        (cluster, graph) = Graph(planYaml);
        var files = ChakraExport.Write(dir.Path, new ChakraTraceBuilder(graph, cluster, "test-dlrm"), cluster, force: false);
        Assert.Equal(graph.World, files.Traces.Count);
        return Enumerable.Range(0, graph.World).Select(r => ChakraExport.Read(Path.Combine(dir.Path, ChakraExport.TraceFile(r)))).ToArray();
    }

    private static AttributeProto Attr(Node n, string name) => n.Attr.Single(a => a.Name == name);
    private static int TaskOf(Node n) => (int)Attr(n, ChakraAttributes.SimTaskId).Int64Val;
    private static bool IsHost(Node n) => n.Name.EndsWith(".host", StringComparison.Ordinal);

    /// <summary>Does rank <paramref name="rank"/> take part in <paramref name="t"/> (its own compute task, or any collective)?</summary>
    private static bool OnRank(IterationTask t, int rank) => t.Kind == TaskKind.Collective || t.Rank == rank;

    [Theory]
    [MemberData(nameof(Plans))]
    public void One_trace_per_rank_reads_back_with_its_metadata_and_dense_node_ids(string? plan)
    {
        using var dir = new Fixtures.TempDir();
        var traces = ExportAndRead(plan, dir, out var cluster, out var graph);
        Assert.Equal(8, graph.World);
        Assert.Equal(graph.World, Directory.GetFiles(dir.Path, "iteration.*.et").Length);
        for (var r = 0; r < traces.Length; r++)
        {
            var meta = traces[r].Metadata;
            Assert.Equal(ChakraAttributes.SchemaVersion, meta.Version);
            Assert.Equal(r, meta.Attr.Single(a => a.Name == "rank").Int64Val);
            Assert.Equal(graph.World, meta.Attr.Single(a => a.Name == "world_size").Int64Val);
            Assert.Equal(cluster.Name, meta.Attr.Single(a => a.Name == "topology").StringVal);
            Assert.Equal(Enumerable.Range(0, traces[r].Nodes.Count).Select(i => (ulong)i), traces[r].Nodes.Select(n => n.Id));
        }
    }

    [Theory]
    [MemberData(nameof(Plans))]
    public void Compute_nodes_are_the_ranks_compute_tasks_with_their_priced_seconds(string? plan)
    {
        using var dir = new Fixtures.TempDir();
        var traces = ExportAndRead(plan, dir, out _, out var graph);
        for (var r = 0; r < traces.Length; r++)
        {
            var comps = traces[r].Nodes.Where(n => n.Type == NodeType.CompNode && !IsHost(n)).ToList();
            var expected = graph.Tasks.Where(t => t.Kind == TaskKind.Compute && t.Rank == r).Select(t => t.Id).ToList();
            // Collectives that move no bytes are compute nodes too; here every collective moves bytes.
            Assert.Equal(expected, comps.Select(TaskOf));
            foreach (var n in comps)
            {
                var t = graph.Tasks[TaskOf(n)];
                Assert.Equal(t.Phase, n.Name);
                Assert.Equal(t.Seconds, Attr(n, ChakraAttributes.SimSeconds).DoubleVal);
                Assert.Equal((ulong)Math.Round(t.Seconds * 1e6, MidpointRounding.AwayFromZero), n.DurationMicros);
                Assert.False(Attr(n, ChakraAttributes.IsCpuOp).BoolVal);
            }
            Assert.Contains(comps, n => n.DurationMicros > 0);
        }
    }

    [Theory]
    [MemberData(nameof(Plans))]
    public void Collective_nodes_carry_the_graphs_bytes_kind_and_world_group(string? plan)
    {
        using var dir = new Fixtures.TempDir();
        var traces = ExportAndRead(plan, dir, out _, out var graph);
        var w = graph.World;
        var collectives = graph.Tasks.Where(t => t.Kind == TaskKind.Collective).ToList();
        Assert.Contains(collectives, t => t.Collective!.Kind == CollectiveKind.AllReduce);
        Assert.Contains(collectives, t => t.Collective!.Kind == CollectiveKind.AllToAll);
        for (var r = 0; r < w; r++)
        {
            var comms = traces[r].Nodes.Where(n => n.Type == NodeType.CommCollNode).ToList();
            Assert.Equal(collectives.Select(t => t.Id), comms.Select(TaskOf));
            foreach (var n in comms)
            {
                var spec = graph.Tasks[TaskOf(n)].Collective!;
                Assert.Equal(ChakraCommGroups.WorldId.ToString(System.Globalization.CultureInfo.InvariantCulture), Attr(n, ChakraAttributes.ProcessGroup).StringVal);
                var size = Attr(n, ChakraAttributes.CommSize).Int64Val;
                if (spec.Kind == CollectiveKind.AllReduce)
                {
                    Assert.Equal((long)CollectiveCommType.AllReduce, Attr(n, ChakraAttributes.CommType).Int64Val);
                    Assert.Equal(spec.Bytes, size, 0.5);
                    Assert.True(size > 0);
                    continue;
                }
                Assert.Equal((long)CollectiveCommType.AllToAll, Attr(n, ChakraAttributes.CommType).Int64Val);
                // This rank's bytes in Sim's uneven exchange, summed here from the demand matrix entries.
                var d = spec.Demand!;
                double Sent(int s) => Enumerable.Range(0, w).Where(x => x != s).Sum(x => d.Bytes(s, x));
                double Received(int s) => Enumerable.Range(0, w).Where(x => x != s).Sum(x => d.Bytes(x, s));
                Assert.Equal(Sent(r), Attr(n, ChakraAttributes.SimSendBytes).Int64Val, 0.5);
                Assert.Equal(Received(r), Attr(n, ChakraAttributes.SimRecvBytes).Int64Val, 0.5);
                // ASTRA-sim's even all-to-all sends (N-1)/N of comm_size: the busiest rank's network bytes.
                var busiest = Enumerable.Range(0, w).Max(s => Math.Max(Sent(s), Received(s)));
                Assert.Equal(busiest, size * (w - 1.0) / w, 1.0);
            }
        }
        // comm_size is the same on every rank (ASTRA-sim matches a collective's messages across ranks by size).
        for (var i = 0; i < collectives.Count; i++)
            Assert.Single(traces.Select(t => Attr(t.Nodes.Where(n => n.Type == NodeType.CommCollNode).ElementAt(i), ChakraAttributes.CommSize).Int64Val).Distinct());

        using var groups = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, ChakraExport.CommGroupFile)));
        var group = Assert.Single(groups.RootElement.EnumerateObject());
        Assert.Equal("1", group.Name);
        Assert.Equal(Enumerable.Range(0, w), group.Value.EnumerateArray().Select(e => e.GetInt32()));
    }

    [Theory]
    [MemberData(nameof(Plans))]
    public void Host_work_of_a_collective_is_a_compute_node_before_it(string? plan)
    {
        using var dir = new Fixtures.TempDir();
        var traces = ExportAndRead(plan, dir, out _, out var graph);
        var withHost = graph.Tasks.Where(t => t.Collective is { HostSeconds: > 0 }).ToList();
        Assert.NotEmpty(withHost);
        for (var r = 0; r < traces.Length; r++)
        {
            var nodes = traces[r].Nodes;
            foreach (var t in withHost)
            {
                var host = nodes.Single(n => IsHost(n) && TaskOf(n) == t.Id);
                var coll = nodes.Single(n => n.Type == NodeType.CommCollNode && TaskOf(n) == t.Id);
                Assert.Equal(t.Collective!.HostSeconds, Attr(host, ChakraAttributes.SimSeconds).DoubleVal);
                Assert.Equal([host.Id], coll.DataDeps);
                // The host work and the collective's own part add up to Sim's time for this rank.
                Assert.Equal(t.SecondsFor(r), Attr(host, ChakraAttributes.SimSeconds).DoubleVal + Attr(coll, ChakraAttributes.SimSeconds).DoubleVal, 15);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Plans))]
    public void Dependencies_are_a_dag_of_the_graphs_edges_among_a_ranks_tasks(string? plan)
    {
        using var dir = new Fixtures.TempDir();
        var traces = ExportAndRead(plan, dir, out _, out var graph);
        for (var r = 0; r < traces.Length; r++)
        {
            var nodes = traces[r].Nodes;
            foreach (var n in nodes)
            {
                Assert.All(n.DataDeps, d => Assert.True(d < n.Id, $"rank {r}: node {n.Id} depends on later node {d}"));
                Assert.Equal(n.DataDeps.Distinct().Count(), n.DataDeps.Count);
                Assert.Empty(n.CtrlDeps);
            }
            // Per task the rank takes part in: the parents of its first node (the host node when there is one) are
            // the last nodes of exactly the graph's dependencies that this rank also takes part in.
            var tasks = nodes.Select(TaskOf).Distinct().ToList();
            Assert.Equal(graph.Tasks.Where(t => OnRank(t, r)).Select(t => t.Id), tasks);
            foreach (var id in tasks)
            {
                var first = nodes.First(n => TaskOf(n) == id);
                var parents = first.DataDeps.Select(d => nodes[(int)d]).ToList();
                Assert.All(parents, p => Assert.Equal(p, nodes.Last(n => TaskOf(n) == TaskOf(p))));
                var expected = graph.Tasks[id].Dependencies.Where(d => OnRank(graph.Tasks[d], r)).Order();
                Assert.Equal(expected, parents.Select(TaskOf).Order());
            }
        }
    }

    [Fact]
    public void The_same_inputs_give_byte_identical_files()
    {
        using var a = new Fixtures.TempDir();
        using var b = new Fixtures.TempDir();
        ExportAndRead(Mixed, a, out _, out _);
        ExportAndRead(Mixed, b, out _, out _);
        var names = Directory.GetFiles(a.Path).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(names, Directory.GetFiles(b.Path).Select(Path.GetFileName).Order());
        Assert.Equal(8 + 4, names.Count);
        foreach (var n in names) Assert.Equal(File.ReadAllBytes(Path.Combine(a.Path, n!)), File.ReadAllBytes(Path.Combine(b.Path, n!)));
    }

    [Fact]
    public void The_network_and_system_configs_have_one_entry_per_dimension()
    {
        using var dir = new Fixtures.TempDir();
        ExportAndRead(null, dir, out var cluster, out _);
        var network = File.ReadAllText(Path.Combine(dir.Path, ChakraExport.NetworkFile));
        Assert.Contains("npus_count: [ 4, 2 ]", network);
        // 300e9 and 25e9 B/s in GiB/s.
        Assert.Contains("bandwidth: [ 279.396772, 23.283064 ]", network);
        using var system = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir.Path, ChakraExport.SystemFile)));
        Assert.Equal(["ring", "ring"], system.RootElement.GetProperty("all-reduce-implementation").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["direct", "direct"], system.RootElement.GetProperty("all-to-all-implementation").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(cluster.Gpu.HbmBytesPerSecond / 1e9, system.RootElement.GetProperty("local-mem-bw").GetDouble());
        Assert.Equal(0, system.RootElement.GetProperty("roofline-enabled").GetInt32());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(127)]
    [InlineData(128)]
    [InlineData(300)]
    [InlineData(20000)]
    public void The_framing_is_a_varint32_length_then_the_message(int nameLength)
    {
        var node = new Node { Id = 3, Name = new string('x', nameLength), Type = NodeType.CompNode };
        using var s = new MemoryStream();
        ChakraStream.Write(s, node);
        ChakraStream.Write(s, node);
        var bytes = s.ToArray();
        var size = node.CalculateSize();
        // The prefix is the size in 7-bit groups, low group first, with the high bit set on all but the last.
        var prefix = new List<byte>();
        for (var v = (uint)size; ; v >>= 7) { if (v < 0x80) { prefix.Add((byte)v); break; } prefix.Add((byte)(v | 0x80)); }
        Assert.Equal(2 * (prefix.Count + size), bytes.Length);
        Assert.Equal(prefix, bytes.Take(prefix.Count));
        s.Position = 0;
        Assert.Equal(node, Node.Parser.ParseFrom(ChakraStream.ReadNext(s)));
        Assert.Equal(node, Node.Parser.ParseFrom(ChakraStream.ReadNext(s)));
        Assert.Null(ChakraStream.ReadNext(s));
        // Cut anywhere inside the second message: an error, not a short node.
        using var cut = new MemoryStream(bytes[..^1]);
        ChakraStream.ReadNext(cut);
        Assert.ThrowsAny<EndOfStreamException>(() => ChakraStream.ReadNext(cut));
    }

    [Fact]
    public void A_zero_length_reads_as_the_end_as_in_chakras_protolib()
    {
        using var s = new MemoryStream([0x00, 0x02, 0x08, 0x01]);
        Assert.Null(ChakraStream.ReadNext(s));
        Assert.Throws<InvalidOperationException>(() => ChakraStream.Write(new MemoryStream(), new Node()));
    }
}
