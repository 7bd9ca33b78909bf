using Sim.Config;
using Sim.Topology;


namespace Sim.Conditions;

/// <summary>
/// Reads a conditions file (`--conditions`): seed, iterations, stragglers, jitter, background and degrade, all
/// optional; or an overlay file (`--degrade`): only `degrade:` (and a description). Errors name file:line:column and
/// the field, like every loader; those found only against a cluster (an unknown switch, a rank beyond the world)
/// name the entry's place too (<see cref="InputSpot"/>).
/// </summary>
internal static class ConditionsLoader
{
    public static OperatingConditions Load(string path) => Read(YamlDocument.LoadFile(path));

    public static OperatingConditions Parse(string text, string fileName) => Read(YamlDocument.Parse(text, fileName));

    /// <summary>An overlay file: `degrade:` entries only.</summary>
    public static LinkOverlay LoadDegrade(string path) => ReadDegradeFile(YamlDocument.LoadFile(path));

    public static LinkOverlay ParseDegrade(string text, string fileName) => ReadDegradeFile(YamlDocument.Parse(text, fileName));

    private static LinkOverlay ReadDegradeFile(YamlMap root)
    {
        root.OptionalString("description");
        var overlay = ReadDegrade(root, "degrade", required: true)!;
        root.EnsureNoUnknownKeys();
        return overlay;
    }

    private static OperatingConditions Read(YamlMap root)
    {
        root.OptionalString("description");
        var seed = (ulong)root.OptionalLong("seed", (long)OperatingConditions.DefaultSeed, 0, long.MaxValue);
        var iterations = root.OptionalInt("iterations", OperatingConditions.DefaultIterations, 1, OperatingConditions.MaxIterations);
        var fixedFactors = new List<StragglerFactor>();
        foreach (var (node, i) in (root.OptionalList("stragglers") ?? []).Select((n, i) => (n, i)))
        {
            var m = root.AsMap(node, $"stragglers[{i}]");
            var scope = m.Has("rank") ? StragglerScope.Rank : m.Has("node") ? StragglerScope.Node
                : throw m.Error(m.Node, m.Path, "expected `rank: I` or `node: I` with `factor: F`");
            if (m.Has("rank") && m.Has("node")) throw m.Error("node", "give either rank or node, not both");
            var key = scope == StragglerScope.Rank ? "rank" : "node";
            var index = m.RequireInt(key, 0, 1_000_000);
            var factor = m.RequireDouble("factor", 0, minExclusive: true, max: Stragglers.MaxFactor);
            fixedFactors.Add(new StragglerFactor(scope, index, factor, InputSpot.Of(m, m.TryGet(key)!, m.FieldPath(key))));
            m.EnsureNoUnknownKeys();
        }
        Jitter? jitter = null;
        if (root.OptionalMap("jitter") is { } j)
        {
            var sigma = j.RequireDouble("lognormal_sigma");
            jitter = Jitter.Create(sigma, msg => j.Error("lognormal_sigma", msg));
            j.EnsureNoUnknownKeys();
        }
        var background = BackgroundLoad.None;
        if (root.OptionalMap("background") is { } b)
        {
            var d = new Dictionary<string, double>(StringComparer.Ordinal);
            var streams = new List<BackgroundStream>();
            foreach (var (tier, node) in b.Entries())
            {
                b.MarkRead(tier);
                if (tier == "streams")
                {
                    streams.AddRange(ReadStreams(b));
                    continue;
                }
                var field = b.FieldPath(tier);
                var keyNode = b.Node.Children.Keys.First(k => k is YamlDotNet.RepresentationModel.YamlScalarNode { Value: var v } && v == tier);
                BackgroundLoad.CheckTier(tier, msg => b.Error(keyNode, field, msg));
                var s = b.AsScalar(node, field);
                if (!double.TryParse(s.Value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var f))
                    throw b.Error(s, field, $"expected a fraction, found '{s.Value}'");
                d[tier] = BackgroundLoad.CheckFraction(f, msg => b.Error(s, field, msg));
            }
            background = new BackgroundLoad(d) { Streams = streams };
        }
        var degrade = ReadDegrade(root, "degrade", required: false);
        root.EnsureNoUnknownKeys();
        return new OperatingConditions(new Stragglers(fixedFactors, jitter), background, degrade, iterations, seed);
    }

    /// <summary>`streams:` entries: `- from_nodes: 0-3 / to_nodes: 8-11 / gbps: 400`.</summary>
    private static IEnumerable<BackgroundStream> ReadStreams(YamlMap b)
    {
        var list = b.RequireList("streams");
        for (var i = 0; i < list.Count; i++)
        {
            var m = b.AsMap(list[i], b.FieldPath($"streams[{i}]"));
            (int, int) Nodes(string key)
            {
                var s = m.AsScalar(m.TryGet(key) ?? throw m.Error(m.Node, m.FieldPath(key), "required field is missing (a node or FIRST-LAST)"), m.FieldPath(key));
                return BackgroundStream.Range(s.Value!, msg => m.Error(s, m.FieldPath(key), msg));
            }
            var (a, z) = Nodes("from_nodes");
            var (c, d) = Nodes("to_nodes");
            var gbps = m.RequireDouble("gbps");
            var from = m.TryGet("from_nodes")!;
            yield return BackgroundStream.Create(a, z, c, d, gbps, InputSpot.Of(m, from, m.FieldPath("from_nodes")), msg => m.Error(m.Node, m.Path, msg));
            m.EnsureNoUnknownKeys();
        }
    }

    private static readonly (string Key, OverlayTarget Target)[] Targets =
        [("link", OverlayTarget.Link), ("switch", OverlayTarget.Switch), ("nic", OverlayTarget.Nic), ("tier", OverlayTarget.Tier)];

    /// <summary>Entries `- switch: p0.spine1 / down: true`, `- link: A--B / speed: 0.5`, `- nic: n3.nic0 ...`, `- tier: leaf ...`.</summary>
    private static LinkOverlay? ReadDegrade(YamlMap root, string key, bool required)
    {
        var list = required ? root.RequireList(key) : root.OptionalList(key);
        if (list is null) return null;
        var entries = new List<OverlayEntry>();
        for (var i = 0; i < list.Count; i++)
        {
            var m = root.AsMap(list[i], root.FieldPath($"{key}[{i}]"));
            var named = Targets.Where(t => m.Has(t.Key)).ToArray();
            if (named.Length != 1)
                throw m.Error(m.Node, m.Path, $"expected exactly one of: {string.Join(", ", Targets.Select(t => t.Key))} (found {(named.Length == 0 ? "none" : string.Join(", ", named.Select(t => t.Key)))})");
            var (what, target) = named[0];
            var name = m.RequireString(what);
            var spot = InputSpot.Of(m, m.TryGet(what)!, m.FieldPath(what));
            double speed;
            if (m.Has("down") == m.Has("speed"))
                throw m.Error(m.Node, m.Path, "expected exactly one of `down: true` or `speed: FRACTION` (0 < FRACTION <= 1)");
            if (m.Has("down"))
            {
                if (!m.OptionalBool("down", false)) throw m.Error("down", "write `down: true`, or `speed: 1` for a healthy link (or leave the entry out)");
                if (target == OverlayTarget.Tier) throw m.Error("down", "a whole tier down cuts every GPU off; slow it with `speed:` instead");
                speed = 0;
            }
            else speed = m.RequireDouble("speed", 0, minExclusive: true, max: 1);
            entries.Add(new OverlayEntry(target, name, speed, spot));
            m.EnsureNoUnknownKeys();
        }
        return new LinkOverlay(entries, root.File);
    }
}
