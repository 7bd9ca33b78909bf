using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CsCheck;

namespace Sim.Tests.Fuzz;

/// <summary>
/// One edit of an input file. Positions are fractions in [0, 1) of whatever the edit counts (lines, tokens, bytes,
/// JSON nodes), so an edit applies to any file and the same edit on the same file always gives the same bytes.
/// </summary>
public abstract record Edit
{
    public abstract byte[] Apply(byte[] input);

    protected static int Index(double at, int count) => count <= 0 ? 0 : Math.Min(count - 1, (int)(at * count));

    protected static string Text(byte[] b) => Encoding.UTF8.GetString(b);
    protected static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    protected static List<string> Lines(byte[] b) => [.. Text(b).Split('\n')];
    protected static byte[] Join(List<string> lines) => Bytes(string.Join('\n', lines));
}

public sealed record DeleteLines(double At, int Count) : Edit
{
    public override byte[] Apply(byte[] input)
    {
        var lines = Lines(input);
        var i = Index(At, lines.Count);
        lines.RemoveRange(i, Math.Min(Count, lines.Count - i));
        return Join(lines);
    }
}

public sealed record DuplicateLine(double At) : Edit
{
    public override byte[] Apply(byte[] input)
    {
        var lines = Lines(input);
        var i = Index(At, lines.Count);
        lines.Insert(i, lines[i]);
        return Join(lines);
    }
}

public sealed record SwapLines(double A, double B) : Edit
{
    public override byte[] Apply(byte[] input)
    {
        var lines = Lines(input);
        var (i, j) = (Index(A, lines.Count), Index(B, lines.Count));
        (lines[i], lines[j]) = (lines[j], lines[i]);
        return Join(lines);
    }
}

/// <summary>Inserts a line with the indentation of the line it goes before (so a key lands inside the mapping there).</summary>
public sealed record InsertLine(double At, string Line) : Edit
{
    public override byte[] Apply(byte[] input)
    {
        var lines = Lines(input);
        var i = Index(At, lines.Count);
        var indent = lines[i][..(lines[i].Length - lines[i].TrimStart(' ', '-').Length)].Replace('-', ' ');
        lines.Insert(i, indent + Line);
        return Join(lines);
    }
}

/// <summary>Replaces one token (a word or a number, keys included) with a value.</summary>
public sealed partial record ReplaceToken(double At, string With, bool NumbersOnly) : Edit
{
    [GeneratedRegex(@"[A-Za-z0-9_.+\-]+")] private static partial Regex Word();
    [GeneratedRegex(@"(?<![A-Za-z_])-?[0-9][0-9_]*(\.[0-9]+)?([eE][+\-]?[0-9]+)?(?![A-Za-z_])")] private static partial Regex Number();

    public override byte[] Apply(byte[] input)
    {
        var text = Text(input);
        var matches = (NumbersOnly ? Number() : Word()).Matches(text);
        if (matches.Count == 0) return input;
        var m = matches[Index(At, matches.Count)];
        return Bytes(text[..m.Index] + With + text[(m.Index + m.Length)..]);
    }
}

/// <summary>Replaces one number with a value nested <see cref="Depth"/> lists or mappings deep.</summary>
public sealed record Nest(double At, int Depth, bool Mapping) : Edit
{
    public override byte[] Apply(byte[] input)
    {
        var open = Mapping ? "{a: " : "[";
        var close = Mapping ? "}" : "]";
        var value = new StringBuilder(Depth * 5);
        for (var i = 0; i < Depth; i++) value.Append(open);
        value.Append('1');
        for (var i = 0; i < Depth; i++) value.Append(close);
        return new ReplaceToken(At, value.ToString(), NumbersOnly: true).Apply(input);
    }
}

public sealed record Truncate(double At) : Edit
{
    public override byte[] Apply(byte[] input) => input[..Index(At, input.Length)];
}

public sealed record InsertBytes(double At, byte[] Data) : Edit
{
    public override byte[] Apply(byte[] input)
    {
        var i = Index(At, input.Length + 1);
        return [.. input[..i], .. Data, .. input[i..]];
    }

    public override string ToString() => $"InsertBytes {{ At = {At}, Data = {Convert.ToHexString(Data)} }}";
}

public sealed record Empty : Edit
{
    public override byte[] Apply(byte[] input) => [];
}

public sealed record Bom : Edit
{
    public override byte[] Apply(byte[] input) => [0xEF, 0xBB, 0xBF, .. input];
}

/// <summary>Turns the leading spaces of one line (or of every line) into tabs.</summary>
public sealed record Tabs(double At, bool All) : Edit
{
    public override byte[] Apply(byte[] input)
    {
        var lines = Lines(input);
        var i = Index(At, lines.Count);
        for (var j = 0; j < lines.Count; j++)
        {
            if (!All && j != i) continue;
            var body = lines[j].TrimStart(' ');
            var n = lines[j].Length - body.Length;
            lines[j] = new string('\t', (n + 1) / 2) + body;
        }
        return Join(lines);
    }
}

public enum JsonEditKind { Replace, Remove, AddUnknown, DuplicateElement }

/// <summary>
/// A structural edit of a JSON document: one node (in document order) replaced by a value, removed, given an
/// unknown property, or duplicated in its array. Input that is not JSON passes unchanged.
/// </summary>
public sealed record JsonEdit(double At, JsonEditKind Kind, string Value) : Edit
{
    public override byte[] Apply(byte[] input)
    {
        // Input an earlier edit broke (invalid UTF-8, a key twice) is not JSON System.Text.Json can edit: pass it on.
        try { return Edit(input); }
        catch (Exception e) when (e is System.Text.Json.JsonException or ArgumentException or InvalidOperationException) { return input; }
    }

    private byte[] Edit(byte[] input)
    {
        JsonNode? root;
        root = JsonNode.Parse(input);
        if (root is null) return input;
        var nodes = new List<JsonNode>();
        Collect(root, nodes);

        var node = nodes[Index(At, nodes.Count)];
        JsonNode? value;
        try { value = JsonNode.Parse(Value); }
        catch (System.Text.Json.JsonException) { value = JsonValue.Create(Value); }
        switch (Kind)
        {
            case JsonEditKind.Replace when node.Parent is null:
                return Bytes(Value);
            case JsonEditKind.Replace:
                node.ReplaceWith(value);
                break;
            case JsonEditKind.Remove when node.Parent is JsonObject o:
                o.Remove(node.GetPropertyName());
                break;
            case JsonEditKind.Remove when node.Parent is JsonArray a:
                a.RemoveAt(node.GetElementIndex());
                break;
            case JsonEditKind.AddUnknown when node is JsonObject o:
                o["zz_unknown"] = value;
                break;
            case JsonEditKind.AddUnknown when node.Parent is JsonObject p:
                p["zz_unknown"] = value;
                break;
            case JsonEditKind.DuplicateElement when node.Parent is JsonArray a:
                a.Insert(node.GetElementIndex(), node.DeepClone());
                break;
            default:
                return input;
        }
        return Bytes(root.ToJsonString());
    }

    private static void Collect(JsonNode n, List<JsonNode> into)
    {
        into.Add(n);
        switch (n)
        {
            case JsonObject o: foreach (var (_, v) in o) if (v is not null) Collect(v, into); break;
            case JsonArray a: foreach (var v in a) if (v is not null) Collect(v, into); break;
        }
    }
}

/// <summary>A seed file with a list of edits applied in order.</summary>
public sealed record Mutant(int Seed, IReadOnlyList<Edit> Edits)
{
    public byte[] Apply(byte[] seed) => Edits.Aggregate(seed, (b, e) => e.Apply(b));
    public override string ToString() => $"seed #{Seed}: " + string.Join("; ", Edits.Select(e => e.ToString()));
}

/// <summary>CsCheck generators of edits: scalar swaps with hostile values, line surgery, nesting, bytes, encodings.</summary>
public static class Mutations
{
    /// <summary>Values that break parsers and arithmetic: signs, zero, extremes, non-numbers, wrong types, odd strings.</summary>
    public static readonly string[] HostileValues =
    [
        "0", "-1", "1", "2", "3", "-0", "0.5", "1.5", "1e308", "-1e308", "1e-308", "5e-324", "1e15", "1e18", "1e19",
        "NaN", ".nan", ".inf", "-.inf", "Infinity", "-Infinity", "nan", "inf",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "2147483647", "2147483648", "4294967296",
        "65536", "1_000_000", "1__0", "0x10", "1e9", "12abc", "1,5", "+5", "00012",
        "''", "\"\"", "~", "null", "true", "false", "yes", "[]", "{}", "[1, 2]", "{a: 1}", "[", "{", "\"", "'", ":",
        "abc", "fp32", "rank:0", "\u00fc\u00df", "\u202e", "a\tb", "&anchor x", "*missing", "!!binary AAAA", "!!float 1", "? x",
        "|", ">", "- x", "#", "%", "@", "`", "\\u0000",
    ];

    /// <summary>JSON values for structural edits (strings like "NaN" are what named-literal number handling accepts).</summary>
    public static readonly string[] HostileJson =
    [
        "0", "-1", "1", "-0.0", "0.5", "1e308", "-1e308", "5e-324", "1e400", "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"1\"", "\"\"",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "2147483648", "1.5", "null", "true", "[]", "{}", "[null]",
        "[1, 2]", "{\"a\": 1}", "\"abc\"", "\"rank:99999/cuda:0\"", "\"rank:-1/cuda:0\"", "\"all_reduce\"", "\"\\u0000\"",
        "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ];

    public static readonly string[] Lines =
    [
        "zz_unknown: 1", "zz_unknown: {a: [1, 2]}", "source: duplicate", "name: again", "- 1", "- {}", "? complex", "---", "...",
        "%YAML 1.1", "\tkey: tab", "key:value", "  : nokey", "&a x: 1", "<<: *a", "!!map {}", "# comment", "\"unterminated", "[", "{",
    ];

    private static readonly Gen<double> At = Gen.Double[0, 1];
    private static readonly Gen<string> Printable = Gen.String[Gen.Char[' ', '~'], 0, 12];
    private static readonly Gen<string> Scalar = Gen.Frequency((4, Gen.OneOf(HostileValues)), (1, Printable));

    public static readonly Gen<Edit> TextEdit = Gen.Frequency<Edit>(
        (3, Gen.Select(At, Gen.Int[1, 3], (a, n) => (Edit)new DeleteLines(a, n))),
        (2, At.Select(a => (Edit)new DuplicateLine(a))),
        (2, Gen.Select(At, At, (a, b) => (Edit)new SwapLines(a, b))),
        (8, Gen.Select(At, Scalar, (a, v) => (Edit)new ReplaceToken(a, v, NumbersOnly: true))),
        (4, Gen.Select(At, Scalar, (a, v) => (Edit)new ReplaceToken(a, v, NumbersOnly: false))),
        (3, Gen.Select(At, Gen.Frequency((3, Gen.OneOf(Lines)), (1, Printable)), (a, l) => (Edit)new InsertLine(a, l))),
        (1, Gen.Select(At, Gen.OneOf(10, 100, 1_000, 100_000), Gen.Bool, (a, d, m) => (Edit)new Nest(a, d, m))),
        (2, At.Select(a => (Edit)new Truncate(a))),
        (2, Gen.Select(At, Gen.Byte.Array[1, 8], (a, b) => (Edit)new InsertBytes(a, b))),
        (1, Gen.Const((Edit)new Empty())),
        (1, Gen.Const((Edit)new Bom())),
        (1, Gen.Select(At, Gen.Bool, (a, all) => (Edit)new Tabs(a, all))));

    public static readonly Gen<Edit> StructuralJsonEdit = Gen.Select(At, Gen.Enum<JsonEditKind>(), Gen.OneOf(HostileJson),
        (a, k, v) => (Edit)new JsonEdit(a, k, v));

    /// <summary>A mutant of one of <paramref name="seeds"/> seed files: one to three edits, structural ones too for JSON.</summary>
    public static Gen<Mutant> Mutant(int seeds, bool json)
    {
        var edit = json ? Gen.Frequency((3, StructuralJsonEdit), (2, TextEdit)) : TextEdit;
        return Gen.Select(Gen.Int[0, seeds - 1], edit.Array[1, 3], (s, e) => new Mutant(s, e));
    }
}
