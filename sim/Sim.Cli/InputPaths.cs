namespace Sim.Cli;

/// <summary>Files named on the command line: a folder stands for the files in it (and below) that match, in a fixed order.</summary>
internal static class InputPaths
{
    public static IEnumerable<string> Files(IEnumerable<string> paths, params string[] patterns) =>
        paths.SelectMany(p => Directory.Exists(p)
            ? patterns.SelectMany(pattern => Directory.GetFiles(p, pattern, SearchOption.AllDirectories)).Distinct().Order(StringComparer.Ordinal).ToArray()
            : [p]);
}
