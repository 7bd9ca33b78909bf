using System.Globalization;
using System.Text.Json.Nodes;
using Json.Schema;
using Sim.Config;
using Sim.Schemas;
using YamlDotNet.RepresentationModel;

namespace Sim.Tests;

/// <summary>
/// The YAML formats' schemas (docs/schemas/) are what the loaders read of the shipped files, and every shipped file
/// validates against its format's schema, as an editor would check it.
/// </summary>
public class YamlSchemaTests
{
    public static TheoryData<string> Formats => new(YamlSchemas.Formats);

    [Theory]
    [MemberData(nameof(Formats))]
    public void The_committed_schema_is_a_fresh_recording_of_the_loader(string format)
    {
        var fresh = YamlSchemas.Generate(format, Fixtures.RepoRoot);
        Assert.True(File.ReadAllText(Fixtures.Repo($"docs/schemas/{format}.schema.json")) == fresh,
            $"docs/schemas/{format}.schema.json is stale: run `sim schema {format} --regenerate` from the repository root");
        Assert.Equal(fresh, CliRunner.Run("schema", format).Stdout);
    }

    [Theory]
    [InlineData("topology", "topologies")]
    [InlineData("workload", "workloads")]
    [InlineData("workload", "workloads/validation")]
    [InlineData("plan", "plans")]
    [InlineData("plan", "validation/plans")]
    [InlineData("sweep", "workloads/sweeps")]
    [InlineData("conditions", "topologies/overlays")]
    public void Every_shipped_file_validates_against_its_schema(string format, string folder)
    {
        var schema = JsonSchema.FromText(File.ReadAllText(Fixtures.Repo($"docs/schemas/{format}.schema.json")));
        var files = Directory.GetFiles(Fixtures.Repo(folder), "*.yaml");
        Assert.NotEmpty(files);
        foreach (var f in files)
        {
            // Editors find the schema from the file's first line (YAML language server modeline).
            var rel = Path.GetRelativePath(Path.GetDirectoryName(f)!, Fixtures.Repo($"docs/schemas/{format}.schema.json")).Replace('\\', '/');
            Assert.Equal($"# yaml-language-server: $schema={rel}", File.ReadLines(f).First());
            var result = schema.Evaluate(Element(ToJson(f)), new EvaluationOptions { OutputFormat = OutputFormat.List });
            Assert.True(result.IsValid, $"{Path.GetFileName(f)}: " + string.Join("; ", (result.Details ?? []).Where(d => d.Errors is not null)
                .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")).Take(5)));
        }
    }

    [Fact]
    public void A_wrong_type_or_word_fails_the_schema()
    {
        var schema = JsonSchema.FromText(File.ReadAllText(Fixtures.Repo("docs/schemas/plan.schema.json")));
        var bad = JsonNode.Parse("""{"tables": {"t0": {"scheme": "diagonal", "ranks": [0]}}}""");
        Assert.False(schema.Evaluate(Element(bad)).IsValid);
        var good = JsonNode.Parse("""{"tables": {"t0": {"scheme": "table_wise", "ranks": [0]}}}""");
        Assert.True(schema.Evaluate(Element(good)).IsValid);
    }

    private static System.Text.Json.JsonElement Element(JsonNode? n) => System.Text.Json.JsonDocument.Parse(n?.ToJsonString() ?? "null").RootElement;

    /// <summary>A YAML file as the JSON an editor's YAML language server sees (plain scalars typed; `1_000` is Sim's number too).</summary>
    private static JsonNode? ToJson(string path)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(path)));
        return Node(stream.Documents[0].RootNode);
    }

    private static JsonNode? Node(YamlNode n) => n switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, Node(kv.Value)))),
        YamlSequenceNode s => new JsonArray(s.Children.Select(Node).ToArray()),
        YamlScalarNode s when s.Style != YamlDotNet.Core.ScalarStyle.Plain => JsonValue.Create(s.Value),
        YamlScalarNode { Value: null or "~" or "null" } => null,
        YamlScalarNode { Value: "true" or "false" } s => JsonValue.Create(s.Value == "true"),
        YamlScalarNode s when long.TryParse(s.Value!.Replace("_", ""), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
        YamlScalarNode s when double.TryParse(s.Value!.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
        YamlScalarNode s => JsonValue.Create(s.Value),
        _ => null,
    };
}

/// <summary>docs/formats.md documents every field the schemas hold and every sweep axis.</summary>
public class FormatsDocTests
{
    [Fact]
    public void Every_schema_field_and_sweep_axis_is_on_the_formats_page()
    {
        var doc = File.ReadAllText(Fixtures.Repo("docs/formats.md"));
        foreach (var format in YamlSchemas.Formats)
        {
            // The page holds the table `sim schema FORMAT --markdown` prints, whole.
            Assert.True(doc.Contains(SchemaMarkdown.Table(File.ReadAllText(Fixtures.Repo($"docs/schemas/{format}.schema.json"))), StringComparison.Ordinal),
                $"docs/formats.md's {format} table is stale: paste `sim schema {format} --markdown`");
            var schema = JsonNode.Parse(File.ReadAllText(Fixtures.Repo($"docs/schemas/{format}.schema.json")))!;
            foreach (var path in Paths(schema.AsObject(), ""))
                Assert.True(doc.Contains($"`{path}`", StringComparison.Ordinal), $"docs/formats.md does not document {format} field `{path}`");
        }
        foreach (var axis in Sim.Sweep.SweepAxis.All)
            Assert.Contains($"`{axis.Name}`", doc);
    }

    private static IEnumerable<string> Paths(JsonObject o, string at)
    {
        if (o["properties"] is JsonObject props)
            foreach (var (k, v) in props)
            {
                var p = at.Length == 0 ? k : $"{at}.{k}";
                yield return p;
                foreach (var q in Children(v!.AsObject(), p)) yield return q;
            }
        if (o["additionalProperties"] is JsonObject ap)
        {
            var p = at.Length == 0 ? "NAME" : $"{at}.NAME";
            yield return p;
            foreach (var q in Children(ap, p)) yield return q;
        }
    }

    private static IEnumerable<string> Children(JsonObject v, string p) =>
        v["items"] is JsonObject items && (items["properties"] is not null || items["additionalProperties"] is JsonObject) ? Paths(items, p + "[]") : Paths(v, p);
}
