using System.CommandLine;
using System.Reflection;
using Sim.Config;
using Sim.Schemas;
using Sim.Profiles;
using Sim.Measurements;

namespace Sim.Cli;

/// <summary>
/// `sim schema FORMAT`: the JSON Schema of a file format (docs/schemas/ holds them). JSON formats come from the reader's
/// types; YAML formats from what the loaders read of the shipped files (<see cref="YamlSchemas"/>), committed and
/// compiled in; `--regenerate` rewrites a YAML format's schema from the repository after a loader changes.
/// </summary>
internal static class SchemaCommand
{
    public static readonly IReadOnlyDictionary<string, Func<string>> Formats = new Dictionary<string, Func<string>>
    {
        ["measurement"] = MeasurementJson.Schema,
        ["profile"] = CalibrationProfileJson.Schema,
    }.Concat(YamlSchemas.Formats.Select(f => KeyValuePair.Create(f, (Func<string>)(() => Embedded(f))))).ToDictionary();

    /// <summary>The committed schema of a YAML format, as compiled into the CLI.</summary>
    public static string Embedded(string format)
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream($"schema.{format}.json")
            ?? throw new SimInputException("format", "", $"no schema of {format} was compiled in");
        using var reader = new StreamReader(s);
        return reader.ReadToEnd();
    }

    public static Command Create(TextWriter stdout)
    {
        var format = new Argument<string>("format") { Description = string.Join(", ", Formats.Keys) };
        format.AcceptOnlyFromAmong([.. Formats.Keys]);
        var regenerate = new Option<bool>("--regenerate")
        {
            Description = "YAML formats: load the shipped files of the repository in the current folder and write docs/schemas/FORMAT.schema.json",
        };
        var markdown = new Option<bool>("--markdown") { Description = "print the fields as the Markdown table docs/formats.md holds" };
        var cmd = new Command("schema", $"Print the JSON Schema of a file format ({string.Join(", ", Formats.Keys)}).") { format, regenerate, markdown };
        cmd.SetAction(r =>
        {
            var f = r.GetValue(format)!;
            if (!r.GetValue(regenerate))
            {
                stdout.Write(r.GetValue(markdown) ? SchemaMarkdown.Table(Formats[f]()) : Formats[f]());
                return 0;
            }
            if (!YamlSchemas.Formats.Contains(f)) throw new SimInputException("--regenerate", "", $"{f} is a JSON format: its schema comes from the reader's types");
            var path = Path.Combine("docs", "schemas", $"{f}.schema.json");
            AtomicFile.WriteAllText(path, YamlSchemas.Generate(f, "."));
            stdout.WriteLine($"{path} written (rebuild for `sim schema {f}` to print it)");
            return 0;
        });
        return cmd;
    }
}
