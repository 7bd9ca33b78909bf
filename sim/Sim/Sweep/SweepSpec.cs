using System.Globalization;
using Sim.Config;
using YamlDotNet.RepresentationModel;
using YamlDocument = Sim.Config.YamlDocument;
using Sim.Predictions;

namespace Sim.Sweep;

/// <summary>The values one axis takes, in the order the file lists them.</summary>
public sealed record AxisValues(SweepAxis Axis, IReadOnlyList<object> Values);

/// <summary>
/// A sweep file: a base (topology, workload, and a planner or a plan file) and axes, each a list of values.
/// Paths are relative to the sweep file's folder.
/// </summary>
public sealed record SweepSpec(
    string Name,
    string File,
    string TopologyPath,
    string WorkloadPath,
    string? PlanPath,
    string Planner,
    PredictionMode Mode,
    bool Overlap,
    int OverlapBuckets,
    IReadOnlyList<AxisValues> Axes)
{
    /// <summary>Iterations simulated per configuration under jitter (base `iterations:`).</summary>
    public int Iterations { get; init; } = Conditions.OperatingConditions.DefaultIterations;
    /// <summary>Seed of the jitter draws (base `seed:`); recorded in the keys when set.</summary>
    public ulong Seed { get; init; } = Conditions.OperatingConditions.DefaultSeed;

    /// <summary>Largest cross product a sweep may have.</summary>
    public const long MaxConfigurations = 50_000_000;

    public long Count => Axes.Aggregate(1L, (n, a) => n * a.Values.Count);

    public bool Varies(string axis) => Axes.Any(a => a.Axis.Name == axis);
}

/// <summary>Reads sweep files. Every error names file:line:column and the field, like the other loaders.</summary>
public static class SweepLoader
{
    public static SweepSpec Load(string path)
    {
        var root = YamlDocument.LoadFile(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        return Read(root, dir);
    }

    /// <param name="baseDir">folder that relative paths in the file are resolved against.</param>
    public static SweepSpec Parse(string text, string fileName, string baseDir) => Read(YamlDocument.Parse(text, fileName), baseDir);

    private static SweepSpec Read(YamlMap root, string baseDir)
    {
        var name = root.RequireString("name");
        root.OptionalString("description");
        var b = root.RequireMap("base");
        var topology = RequirePath(b, "topology", baseDir);
        var workload = RequirePath(b, "workload", baseDir);
        var plan = b.Has("plan") ? RequirePath(b, "plan", baseDir) : null;
        if (plan is not null && b.Has("planner"))
            throw b.Error("planner", "give either a plan file or a planner, not both");
        var planner = b.Has("planner") ? ReadWord(b, "planner", Scenario.Planners) : "greedy";
        var mode = b.Has("mode") ? PredictionModes.Parse(ReadWord(b, "mode", PredictionModes.Words), "mode") : PredictionMode.Analytical;
        var overlap = b.Has("overlap") && ReadSwitch(b, b.TryGet("overlap")!, b.FieldPath("overlap"));
        var buckets = b.OptionalInt("overlap_buckets", 4, 1, 1024);
        var iterations = b.OptionalInt("iterations", Conditions.OperatingConditions.DefaultIterations, 1, Conditions.OperatingConditions.MaxIterations);
        var seed = (ulong)b.OptionalLong("seed", (long)Conditions.OperatingConditions.DefaultSeed, 0, long.MaxValue);
        b.EnsureNoUnknownKeys();

        var axesMap = root.RequireMap("axes");
        var axes = new List<AxisValues>();
        foreach (var (key, node) in axesMap.Entries())
        {
            axesMap.MarkRead(key);
            var field = axesMap.FieldPath(key);
            var axis = SweepAxis.Find(key)
                ?? throw axesMap.Error(KeyNode(axesMap, key), field,
                    $"unknown axis; expected one of: {string.Join(", ", SweepAxis.All.Select(a => a.Name))}");
            if (node is not YamlSequenceNode seq)
                throw axesMap.Error(node, field, "expected a list of values, found a " + (node is YamlMappingNode ? "mapping" : "single value") + $" (write [{(node as YamlScalarNode)?.Value}])");
            if (seq.Children.Count == 0)
                throw axesMap.Error(node, field, "list of values must not be empty");
            var values = new List<object>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < seq.Children.Count; i++)
            {
                var v = ReadValue(axesMap, axis, seq.Children[i], $"{field}[{i}]");
                if (!seen.Add(SweepAxis.Format(v)))
                    throw axesMap.Error(seq.Children[i], $"{field}[{i}]", $"value {SweepAxis.Format(v)} appears twice");
                values.Add(v);
            }
            if (axis.Name == "planner" && plan is not null)
                throw axesMap.Error(node, field, "the base names a plan file; a planner axis needs `planner:` in the base instead");
            axes.Add(new AxisValues(axis, values));
        }
        foreach (var (a, c) in SweepAxis.Conflicts)
        {
            if (axes.Any(x => x.Axis.Name == a) && axes.Any(x => x.Axis.Name == c))
                throw axesMap.Error(KeyNode(axesMap, c), axesMap.FieldPath(c), $"conflicts with axis '{a}' (both set the same knob); keep one");
        }
        // Analytical rows would all read alike, silently.
        if (mode == PredictionMode.Analytical && axes.FirstOrDefault(a => a.Axis.EventOnly is not null) is { } eventOnly && !axes.Any(a => a.Axis.Name == "mode"))
            throw axesMap.Error(KeyNode(axesMap, eventOnly.Axis.Name), axesMap.FieldPath(eventOnly.Axis.Name), eventOnly.Axis.EventOnly!);
        root.EnsureNoUnknownKeys();

        // Expansion order is the catalogue's, not the file's: keys and row order never depend on how the file is laid out.
        axes.Sort((x, y) => IndexOf(x.Axis).CompareTo(IndexOf(y.Axis)));
        var spec = new SweepSpec(name, root.File, topology, workload, plan, planner, mode, overlap, buckets, axes) { Iterations = iterations, Seed = seed };
        long count = 1;
        foreach (var a in axes)
        {
            count *= a.Values.Count;
            if (count > SweepSpec.MaxConfigurations)
                throw axesMap.Error(axesMap.Node, "axes", $"the cross product has more than {SweepSpec.MaxConfigurations:N0} configurations; split the sweep");
        }
        return spec;
    }

    private static int IndexOf(SweepAxis a)
    {
        for (var i = 0; i < SweepAxis.All.Count; i++) if (ReferenceEquals(SweepAxis.All[i], a)) return i;
        return -1;
    }

    private static YamlNode KeyNode(YamlMap m, string key) =>
        m.Node.Children.Keys.First(k => k is YamlScalarNode s && s.Value == key);

    private static string RequirePath(YamlMap m, string key, string baseDir)
    {
        var text = m.RequireString(key);
        var full = Path.GetFullPath(Path.Combine(baseDir, text));
        if (!System.IO.File.Exists(full))
            throw m.Error(key, $"file not found: '{text}' (paths are relative to the sweep file's folder)");
        return full;
    }

    private static string ReadWord(YamlMap m, string key, IReadOnlyList<string> words)
    {
        var node = m.TryGet(key)!;
        if (node is not YamlScalarNode s || s.Value is null)
            throw m.Error(node, m.FieldPath(key), "expected a single value");
        if (!words.Contains(s.Value))
            throw m.Error(node, m.FieldPath(key), $"unknown value '{s.Value}'; expected one of: {string.Join(", ", words)}");
        return s.Value;
    }

    private static bool ReadSwitch(YamlMap m, YamlNode node, string field)
    {
        if (node is YamlScalarNode { Value: { } v })
        {
            switch (v)
            {
                case "on" or "true" or "True" or "yes": return true;
                case "off" or "false" or "False" or "no": return false;
            }
        }
        throw m.Error(node, field, $"expected on or off (true or false), found {Describe(node)}");
    }

    private static string Describe(YamlNode node) => node switch
    {
        YamlScalarNode s => $"'{s.Value}'",
        YamlSequenceNode => "a list",
        _ => "a mapping",
    };

    private static object ReadValue(YamlMap m, SweepAxis axis, YamlNode node, string field)
    {
        if (axis.Kind == AxisValueKind.Switch) return ReadSwitch(m, node, field);
        if (node is not YamlScalarNode s || s.Value is null)
            throw m.Error(node, field, $"expected a single value, found {Describe(node)}");
        switch (axis.Kind)
        {
            case AxisValueKind.Integer:
                return m.ParseLong(field, s, (long)axis.Min, (long)axis.Max);
            case AxisValueKind.Number:
                var text = s.Value.Replace("_", "", StringComparison.Ordinal);
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
                    throw m.Error(s, field, $"expected a number, found '{s.Value}'");
                if (axis.AllowsZero ? d < 0 : d <= 0) throw m.Error(s, field, axis.AllowsZero ? $"must be 0 or more, found {s.Value}" : $"must be positive, found {s.Value}");
                // A floor, so that bytes over bandwidth stay finite.
                if (d < axis.Min) throw m.Error(s, field, $"must be at least {axis.Min.ToString(CultureInfo.InvariantCulture)}, found {s.Value}");
                if (axis.MaxExclusive ? d >= axis.Max : d > axis.Max)
                    throw m.Error(s, field, $"must be {(axis.MaxExclusive ? "below" : "at most")} {axis.Max.ToString(CultureInfo.InvariantCulture)}, found {s.Value}");
                return d;
            default:
                if (!axis.Words.Contains(s.Value))
                    throw m.Error(s, field, $"unknown value '{s.Value}'; expected one of: {string.Join(", ", axis.Words)}");
                return s.Value;
        }
    }
}
