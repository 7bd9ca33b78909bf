using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;

namespace Sim.Config;

/// <summary>
/// JSON Schemas of Sim's JSON file formats, derived from the types and serializer options that read them (so a schema
/// cannot drift from the reader); `docs/schemas/` holds them and a test keeps the committed files equal.
/// </summary>
internal static class JsonSchemas
{
    /// <param name="optional">(a property that marks the object, a property the reader does not require there).</param>
    public static string Of(Type type, JsonSerializerOptions options, string title, (string Marker, string Property)? optional = null)
    {
        var o = new JsonSerializerOptions(options);
        o.MakeReadOnly(populateMissingResolver: true);
        var node = JsonSchemaExporter.GetJsonSchemaAsNode(o, type, new JsonSchemaExporterOptions
        {
            TreatNullObliviousAsNonNullable = true,
            TransformSchemaNode = (_, schema) =>
            {
                if (optional is { } opt && schema is JsonObject obj && obj["properties"] is JsonObject props && props.ContainsKey(opt.Marker)
                    && obj["required"] is JsonArray req)
                    foreach (var r in req.Where(r => r?.GetValue<string>() == opt.Property).ToList()) req.Remove(r);
                return schema;
            },
        });
        var root = new JsonObject { ["$schema"] = "https://json-schema.org/draft/2020-12/schema", ["title"] = title };
        foreach (var (k, v) in node.AsObject().ToList()) root[k] = v?.DeepClone();
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
