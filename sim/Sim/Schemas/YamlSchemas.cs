using Sim.Conditions;
using Sim.Config;
using Sim.Sharding;
using Sim.Sweep;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Schemas;

/// <summary>
/// JSON Schemas of Sim's YAML formats, made by loading every shipped file of a format with its loader under a
/// <see cref="SchemaRecorder"/> (what the loader asks for is what the schema says). `docs/schemas/` holds them, a test
/// keeps them equal to a fresh generation, and `sim schema FORMAT --regenerate` rewrites them after a loader changes.
/// </summary>
internal static class YamlSchemas
{
    public static readonly IReadOnlyList<string> Formats = ["topology", "workload", "plan", "sweep", "conditions"];

    /// <summary>The schema of <paramref name="format"/> from the shipped files under <paramref name="repoRoot"/>.</summary>
    public static string Generate(string format, string repoRoot)
    {
        var r = new SchemaRecorder();
        string P(string relative) => Path.Combine(repoRoot, relative);
        IEnumerable<string> Yaml(string dir, SearchOption depth = SearchOption.TopDirectoryOnly) =>
            Directory.Exists(P(dir)) ? Directory.GetFiles(P(dir), "*.yaml", depth).Order(StringComparer.Ordinal) : [];
        var files = new List<string>();
        switch (format)
        {
            case "topology":
                foreach (var f in Yaml("topologies")) { r.Record(() => TopologyLoader.Load(f)); files.Add(f); }
                break;
            case "workload":
                foreach (var f in Yaml("workloads").Concat(Yaml("workloads/validation"))) { r.Record(() => WorkloadLoader.Load(f)); files.Add(f); }
                break;
            case "plan":
                foreach (var (plan, workload, topology) in Plans(repoRoot))
                {
                    var w = WorkloadLoader.Load(workload);
                    var c = TopologyLoader.Load(topology);
                    r.Record(() => PlanLoader.Parse(File.ReadAllText(plan), YamlDocument.DisplayName(plan), w, c));
                    files.Add(plan);
                }
                break;
            case "sweep":
                foreach (var f in Yaml("workloads/sweeps")) { r.Record(() => SweepLoader.Load(f)); files.Add(f); }
                break;
            case "conditions":
                foreach (var f in Yaml("topologies/overlays"))
                {
                    // An overlay holds only `degrade:`; a conditions file may hold it and the rest.
                    var isOverlay = !Path.GetFileName(f).Contains("conditions", StringComparison.Ordinal);
                    r.Record(() => isOverlay ? (object)ConditionsLoader.LoadDegrade(f) : ConditionsLoader.Load(f));
                    files.Add(f);
                }
                break;
            default:
                throw new SimInputException("format", "", $"'{format}' is not a YAML format; expected one of {string.Join(", ", Formats)}");
        }
        if (files.Count == 0) throw new SimInputException(repoRoot, "", $"no shipped {format} files found: run from the repository's root");
        var from = string.Join(", ", files.Select(f => Path.GetRelativePath(repoRoot, f).Replace('\\', '/')));
        return r.Schema($"Sim {format} file",
            $"What Sim's {format} loader reads, recorded while it loaded the shipped files ({from}). Objects are left open: " +
            "a field no shipped file reaches is not listed, and the loader, not this schema, refuses unknown fields.");
    }

    /// <summary>Shipped plans with the workload and topology each was written for (by their file names).</summary>
    private static IEnumerable<(string Plan, string Workload, string Topology)> Plans(string root)
    {
        // plans/WORKLOAD.TOPOLOGY.yaml
        foreach (var f in Directory.GetFiles(Path.Combine(root, "plans"), "*.yaml").Order(StringComparer.Ordinal))
        {
            var parts = Path.GetFileNameWithoutExtension(f).Split('.');
            yield return (f, Path.Combine(root, "workloads", parts[0] + ".yaml"), Path.Combine(root, "topologies", parts[1] + ".yaml"));
        }
        // validation/plans/WORKLOAD.NgpuKIND.yaml, on an H200 machine of N GPUs
        foreach (var f in Directory.GetFiles(Path.Combine(root, "validation", "plans"), "*.yaml").Order(StringComparer.Ordinal))
        {
            var parts = Path.GetFileNameWithoutExtension(f).Split('.');
            var gpus = parts[1].Replace("gpu", "", StringComparison.Ordinal);
            yield return (f, Path.Combine(root, "workloads", "validation", parts[0] + ".yaml"), Path.Combine(root, "topologies", $"h200x{gpus}.yaml"));
        }
    }
}
