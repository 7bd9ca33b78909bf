namespace Sim.Config;

/// <summary>
/// Where a value was written (file, line, column, field), kept with values whose errors can only be found later,
/// against a cluster (an overlay naming a switch that does not exist, a straggler rank beyond the world size).
/// </summary>
public sealed record InputSpot(string File, int Line, int Column, string Field)
{
    public SimInputException Error(string problem) => new(File, Line, Column, Field, problem);

    /// <summary>A command-line option: no file or line, the option is the place.</summary>
    public static InputSpot Option(string option) => new(option, 0, 0, "");

    /// <summary>The spot of a node in a YAML map.</summary>
    public static InputSpot Of(YamlMap m, YamlDotNet.RepresentationModel.YamlNode node, string field) =>
        new(m.File, (int)node.Start.Line, (int)node.Start.Column, field);
}
