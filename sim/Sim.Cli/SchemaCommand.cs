using System.CommandLine;
using Sim.Calibration;
using Sim.Validation;

namespace Sim.Cli;

/// <summary>`sim schema measurement|profile`: the JSON Schema of a JSON file format (docs/schemas/ holds them).</summary>
public static class SchemaCommand
{
    public static readonly IReadOnlyDictionary<string, Func<string>> Formats = new Dictionary<string, Func<string>>
    {
        ["measurement"] = MeasurementJson.Schema,
        ["profile"] = CalibrationProfileJson.Schema,
    };

    public static Command Create(TextWriter stdout)
    {
        var format = new Argument<string>("format") { Description = "measurement or profile" };
        format.AcceptOnlyFromAmong([.. Formats.Keys]);
        var cmd = new Command("schema", "Print the JSON Schema of a JSON file format (measurement, profile).") { format };
        cmd.SetAction(r =>
        {
            stdout.Write(Formats[r.GetValue(format)!]());
            return 0;
        });
        return cmd;
    }
}
