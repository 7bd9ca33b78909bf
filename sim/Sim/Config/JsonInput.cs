using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Sim.Config;

/// <summary>
/// The one rule for JSON inputs, as for YAML ones: a duplicate key or a field the reader does not know is an error at
/// file:line:column naming the field (with "did you mean" when a known field is close), never .NET's own wording and
/// never silently ignored.
/// </summary>
internal static partial class JsonInput
{
    private static readonly JsonDocumentOptions Strict = new() { AllowDuplicateProperties = false };

    /// <summary>The document as a node tree; a duplicate key or malformed text is one line with its position.</summary>
    public static JsonNode? Parse(string json, string shown)
    {
        RefuseDuplicates(json, shown);
        try { return JsonNode.Parse(json, documentOptions: Strict); }
        catch (JsonException e) { throw Error(e, shown, "", []); }
    }

    /// <summary>A key twice in one object is an error at the second one's line and column (the parser's own says neither).</summary>
    private static void RefuseDuplicates(string json, string shown)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(json);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
        var open = new Stack<HashSet<string>?>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject: open.Push(new HashSet<string>(StringComparer.Ordinal)); break;
                    case JsonTokenType.StartArray: open.Push(null); break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray: open.Pop(); break;
                    case JsonTokenType.PropertyName when open.Peek() is { } keys && !keys.Add(reader.GetString()!):
                        var at = (int)reader.TokenStartIndex;
                        var line = 1 + bytes.AsSpan(0, at).Count((byte)'\n');
                        var col = at - bytes.AsSpan(0, at).LastIndexOf((byte)'\n');
                        throw new SimInputException(shown, line, col, reader.GetString()!, "key appears twice");
                }
            }
        }
        catch (JsonException) { } // malformed text: the parser below says where
    }

    [GeneratedRegex(@"The JSON property '([^']*)' could not be mapped")]
    private static partial Regex Unmapped();

    [GeneratedRegex(@"[Dd]uplicate property '([^']*)'|property name '([^']*)' .*already")]
    private static partial Regex Duplicate();

    /// <summary>A reader's JsonException as a Sim input error; <paramref name="known"/> are the format's field names.</summary>
    /// <param name="fromText">the exception came from reading the file's text (its line and column are the file's);
    /// false when it came from a node tree, whose positions are not the file's: the field path then says where.</param>
    public static SimInputException Error(JsonException e, string shown, string at, IReadOnlyCollection<string> known, bool fromText = true)
    {
        var path = e.Path is { Length: > 1 } p ? (at + p[1..]).TrimStart('.') : at.TrimStart('.');
        var message = e.Message.Split(" Path:")[0].Split(" LineNumber:")[0].TrimEnd('.', ' ');
        int line = fromText ? (int)(e.LineNumber ?? -1) + 1 : 0, col = fromText ? (int)(e.BytePositionInLine ?? -1) + 1 : 0;
        if (Unmapped().Match(e.Message) is { Success: true } u)
        {
            var name = u.Groups[1].Value;
            var near = Spelling.Nearest(known, name);
            var field = path.EndsWith(name, StringComparison.Ordinal) ? path : path.Length == 0 ? name : $"{path}.{name}";
            return new SimInputException(shown, line, col, field, "unknown field" + (near is null ? "" : $"; did you mean '{near}'?"));
        }
        if (Duplicate().Match(e.Message) is { Success: true } d)
            return new SimInputException(shown, line, col, path, $"key '{(d.Groups[1].Success ? d.Groups[1].Value : d.Groups[2].Value)}' appears twice");
        return new SimInputException(shown, line, col, path, message);
    }

    /// <summary>Every property name a JSON Schema mentions (for "did you mean").</summary>
    public static IReadOnlyCollection<string> FieldNames(string schemaJson)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        void Walk(JsonNode? n)
        {
            if (n is JsonObject o)
            {
                if (o["properties"] is JsonObject props) foreach (var (k, _) in props) names.Add(k);
                foreach (var (_, v) in o) Walk(v);
            }
            else if (n is JsonArray a) foreach (var v in a) Walk(v);
        }
        Walk(JsonNode.Parse(schemaJson));
        return names;
    }
}
