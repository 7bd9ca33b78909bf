using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Sim.Cli;

/// <summary>The `--json` of a result command: one indented JSON object on stdout, nothing else there.</summary>
internal static class JsonOutput
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Option<bool> Option(string what) => new("--json") { Description = $"print {what} as one JSON object" };

    public static void Print(TextWriter stdout, JsonNode node) => stdout.WriteLine(node.ToJsonString(Indented));

    public static JsonArray Array<T>(IEnumerable<T> items, Func<T, JsonNode?> item) => new(items.Select(item).ToArray());
}
