using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Sim.Config;

/// <summary>
/// Writes down what a loader reads while it reads files: every field its <see cref="YamlMap"/> accessors ask for, with
/// the type, range and words the accessor checks, whether it is required, and which mappings are dictionaries of
/// user-named entries. Loading every shipped file of a format under a recorder gives that format's JSON Schema, so the
/// schema says what the loader does (`sim schema topology|workload|plan|sweep`). A field no shipped file uses is not
/// in it; objects stay open to other keys so that such a field is never flagged.
/// </summary>
internal sealed partial class SchemaRecorder
{
    [ThreadStatic] private static SchemaRecorder? _current;

    /// <summary>The recorder of this thread's loading, if one is on.</summary>
    internal static SchemaRecorder? Current => _current;

    private readonly SortedDictionary<string, Field> _fields = new(StringComparer.Ordinal);
    private readonly HashSet<string> _dictionaries = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<int>> _instances = new(StringComparer.Ordinal);

    /// <summary>An object was read at <paramref name="path"/> (instance <paramref name="id"/>): a field is required if every instance requires it.</summary>
    internal void Instance(string path, int id)
    {
        var key = Normal(path);
        if (!_instances.TryGetValue(key, out var set)) _instances[key] = set = [];
        set.Add(id);
    }

    private sealed class Field
    {
        public readonly SortedSet<string> Types = new(StringComparer.Ordinal);
        /// <summary>The instances of the parent object in which the loader required this field.</summary>
        public readonly HashSet<int> RequiredIn = [];
        public double Min = double.NegativeInfinity, Max = double.PositiveInfinity;
        public bool MinExclusive, RangeSet;
        public SortedSet<string>? Words;
    }

    /// <summary>Runs <paramref name="load"/> with this recorder listening on the current thread.</summary>
    public T Record<T>(Func<T> load)
    {
        var previous = _current;
        _current = this;
        try { return load(); }
        finally { _current = previous; }
    }

    internal void Dictionary(string path) => _dictionaries.Add(Normal(path));

    /// <param name="requiredIn">the instance of the parent object that requires the field; null where it is optional.</param>
    /// <param name="named">read by a key the loader names (false for a user's entry or a list element).</param>
    internal void Object(string path, int? requiredIn, bool named = true) => Add(path, "object", requiredIn, named);
    internal void Array(string path, int? requiredIn) => Add(path, "array", requiredIn, true);

    internal void Scalar(string path, string type, int? requiredIn, double min = double.NegativeInfinity, bool minExclusive = false,
        double max = double.PositiveInfinity, IEnumerable<string>? words = null)
    {
        var f = Add(path, type, requiredIn, true);
        // The widest a 64-bit field can hold is no limit a user should read in a schema.
        if (min <= long.MinValue) min = double.NegativeInfinity;
        if (max >= long.MaxValue) max = double.PositiveInfinity;
        // Several reads of one field may check different ranges: keep the loosest.
        if (!f.RangeSet) (f.Min, f.MinExclusive, f.Max, f.RangeSet) = (min, minExclusive, max, true);
        else
        {
            if (min < f.Min || (min == f.Min && !minExclusive)) (f.Min, f.MinExclusive) = (min, minExclusive);
            f.Max = Math.Max(f.Max, max);
        }
        if (words is not null) (f.Words ??= new SortedSet<string>(StringComparer.Ordinal)).UnionWith(words);
    }

    private Field Add(string path, string type, int? requiredIn, bool named)
    {
        var key = Normal(path, named);
        if (!_fields.TryGetValue(key, out var f)) _fields[key] = f = new Field();
        f.Types.Add(type);
        if (requiredIn is { } id) f.RequiredIn.Add(id);
        return f;
    }

    /// <summary>Required: every object read at the parent path asked for it without first asking whether it is there.</summary>
    private bool Required(string key, Field f)
    {
        var cut = key.LastIndexOf('.');
        var parent = cut < 0 ? "" : key[..cut];
        return _instances.TryGetValue(parent, out var all) && all.Count > 0 && all.IsSubsetOf(f.RequiredIn);
    }

    [GeneratedRegex(@"\[\d+\]")]
    private static partial Regex Index();

    /// <summary>"tables.t3.ranks[2]" becomes "tables.*.ranks[]" when tables is a dictionary: one schema per shape.</summary>
    /// <param name="named">the last segment is a key the loader asks for by name (`background.streams`), not a user's entry.</param>
    private string Normal(string path, bool named = false)
    {
        var parts = Index().Replace(path, "[]").Split('.');
        for (var i = 0; i < parts.Length - 1; i++)
            if (_dictionaries.Contains(string.Join('.', parts[..(i + 1)])) && !(named && i + 1 == parts.Length - 1))
                parts[i + 1] = "*" + Suffix(parts[i + 1]);
        return string.Join('.', parts);
    }

    private static string Suffix(string segment) => segment.EndsWith("[]", StringComparison.Ordinal) ? "[]" : "";

    /// <summary>The JSON Schema (draft 2020-12) of everything recorded.</summary>
    public string Schema(string title, string description)
    {
        var root = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["title"] = title,
            ["description"] = description,
        };
        Fill(root, "", isObject: true);
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private void Fill(JsonObject schema, string path, bool isObject)
    {
        if (!isObject) return;
        schema["type"] = "object";
        var prefix = path.Length == 0 ? "" : path + ".";
        var children = _fields.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && !k[prefix.Length..].Contains('.')
                                              && !k[prefix.Length..].Contains("[]", StringComparison.Ordinal))
                                   .ToList();
        if (_dictionaries.Contains(path))
        {
            var entry = new JsonObject();
            FillField(entry, prefix + "*");
            schema["additionalProperties"] = entry;
        }
        var props = new JsonObject();
        var required = new JsonArray();
        foreach (var k in children)
        {
            var name = k[prefix.Length..];
            if (name == "*") continue;
            var p = new JsonObject();
            FillField(p, k);
            props[name] = p;
            if (Required(k, _fields[k])) required.Add(name);
        }
        if (props.Count > 0) schema["properties"] = props;
        if (required.Count > 0) schema["required"] = required;
    }

    private void FillField(JsonObject schema, string key)
    {
        if (!_fields.TryGetValue(key, out var f)) { if (_dictionaries.Contains(key)) Fill(schema, key, true); return; }
        var types = f.Types.ToList();
        if (types.Count == 1) schema["type"] = types[0];
        else schema["type"] = new JsonArray(types.Select(t => (JsonNode)t).ToArray());
        if (f.Words is { } w) schema["enum"] = new JsonArray(w.Select(x => (JsonNode)x).ToArray());
        if (types.Any(t => t is "number" or "integer"))
        {
            if (double.IsFinite(f.Min)) schema[f.MinExclusive ? "exclusiveMinimum" : "minimum"] = Num(f.Min);
            if (double.IsFinite(f.Max)) schema["maximum"] = Num(f.Max);
        }
        if (types.Contains("object")) Fill(schema, key, true);
        if (types.Contains("array"))
        {
            var items = new JsonObject();
            FillField(items, key + "[]");
            if (items.Count > 0) schema["items"] = items;
        }
    }

    private static JsonNode Num(double v) => v == Math.Floor(v) && Math.Abs(v) < 9e15 ? JsonValue.Create((long)v) : JsonValue.Create(v);
}
