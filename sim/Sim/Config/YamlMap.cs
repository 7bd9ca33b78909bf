using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Sim.Config;

/// <summary>
/// A mapping node with its file and dotted path, read through typed accessors that check presence,
/// type and range, and that remember which keys were read so that <see cref="EnsureNoUnknownKeys"/>
/// can reject typos. Every error names file:line:column and the full field path.
/// </summary>
public sealed class YamlMap
{
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);
    /// <summary>Keys asked about with <see cref="Has"/>: a field read only when present is optional (for the schema).</summary>
    /// <remarks>Kept only while a <see cref="SchemaRecorder"/> listens: ordinary loads pay nothing for it.</remarks>
    private HashSet<string>? _probed;
    private static int s_nextId;
    private readonly int _id = SchemaRecorder.Current is null ? 0 : Interlocked.Increment(ref s_nextId);

    /// <summary>For <see cref="SchemaRecorder"/>: this instance, when the field is read unconditionally.</summary>
    private int? Req(string key) => _probed?.Contains(key) == true ? null : _id;

    /// <summary>Notes that <paramref name="key"/> is asked about, not required (for the schema; only while recording).</summary>
    private void Probe(string key)
    {
        if (SchemaRecorder.Current is not null) (_probed ??= new HashSet<string>(StringComparer.Ordinal)).Add(key);
    }

    public string File { get; }
    public YamlMappingNode Node { get; }
    public string Path { get; }

    public YamlMap(string file, YamlMappingNode node, string path)
    {
        File = file; Node = node; Path = path;
        SchemaRecorder.Current?.Instance(path, _id);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in node.Children.Keys)
        {
            if (key is not YamlScalarNode s || s.Value is null)
                throw Error(key, "", "keys must be plain strings");
            if (!seen.Add(s.Value))
                throw Error(key, FieldPath(s.Value), "key appears twice");
        }
    }

    public string FieldPath(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public SimInputException Error(YamlNode node, string field, string problem) =>
        new(File, (int)node.Start.Line, (int)node.Start.Column, field, problem);

    public SimInputException Error(string key, string problem) =>
        Error(TryGet(key) ?? Node, FieldPath(key), problem);

    public bool Has(string key)
    {
        Probe(key);
        return TryGet(key) is not null;
    }

    public YamlNode? TryGet(string key)
    {
        _read.Add(key);
        return Node.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;
    }

    private YamlNode Require(string key)
    {
        if (TryGet(key) is { } node) return node;
        // A missing field next to an unknown look-alike is almost always a typo: point at the typo.
        var typo = Node.Children.Keys.Cast<YamlScalarNode>()
            .FirstOrDefault(k => !_read.Contains(k.Value!) && LooksLike(k.Value!, key));
        if (typo is not null)
            throw Error(typo, FieldPath(typo.Value!), $"unknown field; did you mean '{key}'?");
        throw Error(Node, FieldPath(key), "required field is missing");
    }

    private static bool LooksLike(string a, string b)
    {
        const int prefix = 5;
        var samePrefix = a.Length >= prefix && b.Length >= prefix && string.CompareOrdinal(a, 0, b, 0, prefix) == 0;
        return samePrefix || Spelling.Distance(a, b) <= Math.Max(2, b.Length / 4);
    }

    // ---- scalars -------------------------------------------------------------------------------

    private YamlScalarNode Scalar(string key, YamlNode node)
    {
        if (node is YamlScalarNode s && s.Value is not null) return s;
        throw Error(node, FieldPath(key), "expected a single value, found a " + Describe(node));
    }

    public string RequireString(string key)
    {
        SchemaRecorder.Current?.Scalar(FieldPath(key), "string", Req(key));
        var s = Scalar(key, Require(key));
        if (string.IsNullOrWhiteSpace(s.Value)) throw Error(s, FieldPath(key), "must not be empty");
        return s.Value!;
    }

    public string? OptionalString(string key)
    {
        SchemaRecorder.Current?.Scalar(FieldPath(key), "string", null);
        Probe(key); // optional: a read of it below is not a requirement
        return TryGet(key) is { } ? RequireString(key) : null;
    }

    public double RequireDouble(string key, double min = double.NegativeInfinity, bool minExclusive = false, double max = double.PositiveInfinity)
    {
        SchemaRecorder.Current?.Scalar(FieldPath(key), "number", Req(key), min, minExclusive, max);
        var node = Require(key);
        return ParseDouble(key, Scalar(key, node), min, minExclusive, max);
    }

    public double OptionalDouble(string key, double fallback, double min = double.NegativeInfinity, bool minExclusive = false, double max = double.PositiveInfinity)
    {
        SchemaRecorder.Current?.Scalar(FieldPath(key), "number", null, min, minExclusive, max);
        Probe(key); // optional: a read of it below is not a requirement
        return TryGet(key) is { } n ? ParseDouble(key, Scalar(key, n), min, minExclusive, max) : fallback;
    }

    /// <summary>Smallest rate accepted (per second): below it, work divided by the rate can overflow to infinity.</summary>
    public const double MinRate = 1;

    /// <summary>A strictly positive, finite rate (a bandwidth, FLOP/s) of at least <see cref="MinRate"/> per second.</summary>
    public double RequirePositive(string key, double max = double.PositiveInfinity)
    {
        var v = RequireDouble(key, 0, minExclusive: true, max);
        if (v < MinRate) throw Error(key, $"must be at least {MinRate.ToString(CultureInfo.InvariantCulture)} per second, found {v.ToString("R", CultureInfo.InvariantCulture)}");
        return v;
    }

    public long RequireLong(string key, long min = long.MinValue, long max = long.MaxValue)
    {
        SchemaRecorder.Current?.Scalar(FieldPath(key), "integer", Req(key), min, false, max);
        var s = Scalar(key, Require(key));
        return ParseLong(FieldPath(key), s, min, max);
    }

    public long OptionalLong(string key, long fallback, long min = long.MinValue, long max = long.MaxValue)
    {
        SchemaRecorder.Current?.Scalar(FieldPath(key), "integer", null, min, false, max);
        Probe(key); // optional: a read of it below is not a requirement
        return TryGet(key) is { } n ? ParseLong(FieldPath(key), Scalar(key, n), min, max) : fallback;
    }

    public int RequireInt(string key, int min = int.MinValue, int max = int.MaxValue) => (int)RequireLong(key, min, max);
    public int OptionalInt(string key, int fallback, int min = int.MinValue, int max = int.MaxValue) => (int)OptionalLong(key, fallback, min, max);

    public bool OptionalBool(string key, bool fallback)
    {
        SchemaRecorder.Current?.Scalar(FieldPath(key), "boolean", null);
        Probe(key); // optional: a read of it below is not a requirement
        if (TryGet(key) is not { } n) return fallback;
        var s = Scalar(key, n);
        return s.Value switch
        {
            "true" or "True" or "yes" => true,
            "false" or "False" or "no" => false,
            _ => throw Error(s, FieldPath(key), $"expected true or false, found '{s.Value}'"),
        };
    }

    /// <summary>One of a fixed set of words; the error lists them.</summary>
    public T RequireEnum<T>(string key, IReadOnlyDictionary<string, T> words)
    {
        SchemaRecorder.Current?.Scalar(FieldPath(key), "string", Req(key), words: words.Keys);
        var s = Scalar(key, Require(key));
        return ParseEnum(FieldPath(key), s, words);
    }

    public T OptionalEnum<T>(string key, IReadOnlyDictionary<string, T> words, T fallback)
    {
        SchemaRecorder.Current?.Scalar(FieldPath(key), "string", null, words: words.Keys);
        Probe(key); // optional: a read of it below is not a requirement
        return TryGet(key) is { } n ? ParseEnum(FieldPath(key), Scalar(key, n), words) : fallback;
    }

    public T ParseEnum<T>(string field, YamlScalarNode s, IReadOnlyDictionary<string, T> words)
    {
        if (s.Value is not null && words.TryGetValue(s.Value, out var v)) return v;
        throw Error(s, field, $"unknown value '{s.Value}'; expected one of: {string.Join(", ", words.Keys)}");
    }

    // ---- containers ----------------------------------------------------------------------------

    public YamlMap RequireMap(string key)
    {
        SchemaRecorder.Current?.Object(FieldPath(key), Req(key));
        var node = Require(key);
        return AsMap(node, FieldPath(key));
    }

    public YamlMap? OptionalMap(string key)
    {
        SchemaRecorder.Current?.Object(FieldPath(key), null);
        Probe(key); // optional: a read of it below is not a requirement
        return TryGet(key) is { } n ? AsMap(n, FieldPath(key)) : null;
    }

    public YamlMap AsMap(YamlNode node, string path)
    {
        SchemaRecorder.Current?.Object(path, null, named: false);
        if (node is YamlMappingNode m) return new YamlMap(File, m, path);
        throw Error(node, path, "expected a mapping (key: value pairs), found a " + Describe(node));
    }

    public IReadOnlyList<YamlNode> RequireList(string key, bool allowEmpty = false)
    {
        SchemaRecorder.Current?.Array(FieldPath(key), Req(key));
        var node = Require(key);
        if (node is not YamlSequenceNode seq)
            throw Error(node, FieldPath(key), "expected a list, found a " + Describe(node));
        if (!allowEmpty && seq.Children.Count == 0)
            throw Error(node, FieldPath(key), "list must not be empty");
        return seq.Children.ToList();
    }

    public IReadOnlyList<YamlNode>? OptionalList(string key, bool allowEmpty = false)
    {
        SchemaRecorder.Current?.Array(FieldPath(key), null);
        Probe(key); // optional: a read of it below is not a requirement
        return Has(key) ? RequireList(key, allowEmpty) : null;
    }

    /// <summary>A list of numbers, each checked like <see cref="RequireLong"/>.</summary>
    public long[] RequireLongList(string key, long min, long max, bool allowEmpty = false)
    {
        SchemaRecorder.Current?.Scalar(FieldPath(key) + "[0]", "integer", Req(key), min, false, max);
        return RequireList(key, allowEmpty).Select((n, i) => ParseLong($"{FieldPath(key)}[{i}]", Scalar(key, n), min, max)).ToArray();
    }

    public long[]? OptionalLongList(string key, long min, long max, bool allowEmpty = false)
    {
        SchemaRecorder.Current?.Array(FieldPath(key), null);
        Probe(key); // optional: a read of it below is not a requirement
        SchemaRecorder.Current?.Scalar(FieldPath(key) + "[0]", "integer", Req(key), min, false, max);
        return Has(key) ? RequireLongList(key, min, max, allowEmpty) : null;
    }

    /// <summary>The entries of a mapping whose keys are names the user chose (tables, peaks, axes).</summary>
    public IEnumerable<(string Key, YamlNode Value)> Entries()
    {
        SchemaRecorder.Current?.Dictionary(Path);
        return Node.Children.Select(kv => (((YamlScalarNode)kv.Key).Value!, kv.Value));
    }

    public void MarkRead(string key) => _read.Add(key);

    /// <summary>Rejects any key that no accessor asked for: a typo must never be silently ignored.</summary>
    public void EnsureNoUnknownKeys()
    {
        foreach (var key in Node.Children.Keys.Cast<YamlScalarNode>())
        {
            if (!_read.Contains(key.Value!))
            {
                var known = string.Join(", ", _read.Order(StringComparer.Ordinal));
                throw Error(key, FieldPath(key.Value!), $"unknown field (known fields here: {known})");
            }
        }
    }

    // ---- parsing helpers -----------------------------------------------------------------------

    private double ParseDouble(string key, YamlScalarNode s, double min, bool minExclusive, double max)
    {
        var field = FieldPath(key);
        if (!double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
            throw Error(s, field, $"expected a number, found '{s.Value}'");
        if (!double.IsFinite(v)) throw Error(s, field, $"must be finite, found '{s.Value}'");
        if (minExclusive ? v <= min : v < min)
            throw Error(s, field, minExclusive && min == 0 ? $"must be positive, found {s.Value}" : $"must be {(minExclusive ? "greater than" : "at least")} {min.ToString(CultureInfo.InvariantCulture)}, found {s.Value}");
        if (v > max) throw Error(s, field, $"must be at most {max.ToString(CultureInfo.InvariantCulture)}, found {s.Value}");
        return v;
    }

    public long ParseLong(string field, YamlScalarNode s, long min, long max)
    {
        long v;
        var text = s.Value?.Replace("_", "", StringComparison.Ordinal);
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v))
        {
            // Accept integral scientific notation (1e9 rows) but nothing fractional or out of range.
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) || !double.IsFinite(d))
                throw Error(s, field, $"expected a whole number, found '{s.Value}'");
            if (d != Math.Floor(d)) throw Error(s, field, $"expected a whole number, found '{s.Value}'");
            if (d >= 9.2e18 || d <= -9.2e18) throw Error(s, field, $"value {s.Value} is too large");
            v = (long)d;
        }
        if (v < min)
            throw Error(s, field, min == 1 ? $"must be positive, found {s.Value}" : $"must be at least {min}, found {s.Value}");
        if (v > max) throw Error(s, field, $"must be at most {max}, found {s.Value}");
        return v;
    }

    public YamlScalarNode AsScalar(YamlNode node, string field)
    {
        if (node is YamlScalarNode s && s.Value is not null) return s;
        throw Error(node, field, "expected a single value, found a " + Describe(node));
    }

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "mapping",
        YamlSequenceNode => "list",
        YamlScalarNode s when s.Value is null => "null",
        _ => "value",
    };
}
