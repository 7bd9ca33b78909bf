using System.Globalization;
using System.Text.RegularExpressions;
using Sim.Config;
using Sim.Topology;

namespace Sim.Interop.Chakra;

/// <summary>What <see cref="ChakraExport.Write"/> wrote, as paths inside the folder.</summary>
internal sealed record ChakraExportFiles(
    IReadOnlyList<string> Traces, string? Network, string? NetworkWhyNot, string System, string CommGroups, string RemoteMemory);

/// <summary>
/// Writes an exported iteration into one folder: <c>iteration.RANK.et</c> per rank (ASTRA-sim's
/// <c>--workload-configuration=FOLDER/iteration</c> appends ".RANK.et"), and beside them ASTRA-sim's inputs:
/// <c>network.yml</c> (when the cluster's shape fits its analytical network, <see cref="AstraSimExport"/>),
/// <c>system.json</c>, <c>comm_group.json</c> and <c>remote_memory.json</c>.
/// The folder is created when missing. A folder with anything in it is refused unless <c>force</c>; with it, the files
/// of an earlier export (these names, every rank's trace) are removed first and nothing else is touched.
/// </summary>
internal static partial class ChakraExport
{
    public const string TracePrefix = "iteration";
    public const string NetworkFile = "network.yml";
    public const string SystemFile = "system.json";
    public const string CommGroupFile = "comm_group.json";
    public const string RemoteMemoryFile = "remote_memory.json";

    public static string TraceFile(int rank) => $"{TracePrefix}.{rank.ToString(CultureInfo.InvariantCulture)}.et";

    [GeneratedRegex(@"^iteration\.[0-9]+\.et$")]
    private static partial Regex OwnTrace();

    private static bool IsOwn(string name) =>
        OwnTrace().IsMatch(name) || name is NetworkFile or SystemFile or CommGroupFile or RemoteMemoryFile;

    public static ChakraExportFiles Write(string folder, ChakraTraceBuilder traces, Cluster cluster, bool force)
    {
        if (File.Exists(folder)) throw new SimInputException(folder, "--out", "is a file; give a folder for the traces");
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
        {
            if (!force) throw new SimInputException(folder, "--out", "folder is not empty; pass --force to replace an earlier export in it");
            foreach (var f in Directory.EnumerateFiles(folder).Where(f => IsOwn(Path.GetFileName(f))).ToList()) File.Delete(f);
        }
        Directory.CreateDirectory(folder);

        var written = new List<string>(traces.World);
        for (var r = 0; r < traces.World; r++)
        {
            var trace = traces.ForRank(r);
            var path = Path.Combine(folder, TraceFile(r));
            AtomicFile.Write(path, (Stream s) =>
            {
                using var buffered = new BufferedStream(s, 1 << 16);
                ChakraStream.Write(buffered, trace.Metadata);
                foreach (var n in trace.Nodes) ChakraStream.Write(buffered, n);
            });
            written.Add(path);
        }

        string? network = null;
        var yaml = AstraSimExport.TryWrite(cluster, out var whyNot);
        if (yaml is not null)
        {
            network = Path.Combine(folder, NetworkFile);
            AtomicFile.WriteAllText(network, yaml);
        }
        var system = Path.Combine(folder, SystemFile);
        AtomicFile.WriteAllText(system, AstraSystemConfig.Json(cluster));
        var groups = Path.Combine(folder, CommGroupFile);
        AtomicFile.WriteAllText(groups, ChakraCommGroups.Json(ChakraCommGroups.Of(traces.World)));
        var remote = Path.Combine(folder, RemoteMemoryFile);
        AtomicFile.WriteAllText(remote, AstraSystemConfig.RemoteMemoryJson);
        return new ChakraExportFiles(written, network, yaml is null ? whyNot : null, system, groups, remote);
    }

    /// <summary>Reads a trace file back (the GlobalMetadata, then every node) in Chakra's framing.</summary>
    public static ChakraTrace Read(string path)
    {
        using var f = File.OpenRead(path);
        var first = ChakraStream.ReadNext(f) ?? throw new InvalidDataException($"{path}: no GlobalMetadata message");
        var metadata = Proto.GlobalMetadata.Parser.ParseFrom(first);
        var nodes = new List<Proto.Node>();
        while (ChakraStream.ReadNext(f) is { } bytes) nodes.Add(Proto.Node.Parser.ParseFrom(bytes));
        return new ChakraTrace(metadata, nodes);
    }
}
