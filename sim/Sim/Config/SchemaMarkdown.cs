using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Sim.Config;

/// <summary>
/// A schema's fields as a Markdown table (field path, type, required, allowed values): the tables of docs/formats.md,
/// printed by `sim schema FORMAT --markdown`, so the page cannot drift from the schema.
/// </summary>
internal static class SchemaMarkdown
{
    public static string Table(string schemaJson)
    {
        var root = JsonNode.Parse(schemaJson)!.AsObject();
        var sb = new StringBuilder("| field | type | required | values |\n|---|---|---|---|\n");
        foreach (var (path, field, required) in Rows(root, ""))
            sb.Append($"| `{path}` | {Type(field)} | {(required ? "yes" : "")} | {Values(field)} |\n");
        return sb.ToString();
    }

    private static IEnumerable<(string Path, JsonObject Field, bool Required)> Rows(JsonObject schema, string at)
    {
        var required = (schema["required"] as JsonArray)?.Select(n => n!.GetValue<string>()).ToHashSet() ?? [];
        if (schema["properties"] is JsonObject props)
            foreach (var (k, v) in props)
            {
                var p = at.Length == 0 ? k : $"{at}.{k}";
                yield return (p, v!.AsObject(), required.Contains(k));
                foreach (var r in Inner(v.AsObject(), p)) yield return r;
            }
        if (schema["additionalProperties"] is JsonObject ap)
        {
            var p = at.Length == 0 ? "NAME" : $"{at}.NAME";
            yield return (p, ap, false);
            foreach (var r in Inner(ap, p)) yield return r;
        }
    }

    private static IEnumerable<(string, JsonObject, bool)> Inner(JsonObject v, string p)
    {
        foreach (var r in Rows(v, p)) yield return r;
        if (v["items"] is JsonObject items && (items["properties"] is not null || items["additionalProperties"] is JsonObject))
            foreach (var r in Rows(items, p + "[]")) yield return r;
    }

    private static string Type(JsonObject f)
    {
        var t = f["type"] switch
        {
            JsonArray a => string.Join("/", a.Select(x => x!.GetValue<string>())),
            JsonValue v => v.GetValue<string>(),
            _ => "any",
        };
        if (t == "array" && f["items"] is JsonObject items)
            return items["type"] is JsonValue it && it.GetValue<string>() != "object" ? $"list of {it.GetValue<string>()}" : "list of objects";
        return t;
    }

    private static string Values(JsonObject f)
    {
        var parts = new List<string>();
        if (f["enum"] is JsonArray e) parts.Add(string.Join(", ", e.Select(x => $"`{x}`")));
        foreach (var src in new[] { f, f["items"] as JsonObject })
        {
            if (src is null) continue;
            if (src["minimum"] is JsonValue min) parts.Add("≥ " + Num(min));
            if (src["exclusiveMinimum"] is JsonValue xmin) parts.Add("> " + Num(xmin));
            if (src["maximum"] is JsonValue max) parts.Add("≤ " + Num(max));
        }
        return string.Join("; ", parts);
    }

    private static string Num(JsonValue v) => v.GetValue<double>().ToString("R", CultureInfo.InvariantCulture);
}
