using System.Text;
using Sim.Sharding;
using Sim.Measurements;

namespace Sim.Tests.Fuzz;

/// <summary>
/// A valid file to mutate, and the repository files it is read with: a topology under topologies/ and a workload
/// under workloads/ (names without .yaml; a '/' in a workload name is written '+' in corpus file names).
/// </summary>
public sealed record FuzzSeed(string Label, byte[] Bytes, string? Topology, string? Workload)
{
    public string TopologyPath => Fixtures.Repo($"topologies/{Topology}.yaml");
    public string WorkloadPath => Fixtures.Repo($"workloads/{Workload}.yaml");

    /// <summary>Corpus file name: TOPOLOGY~WORKLOAD~LABEL.EXT ("_" where a format needs no such file).</summary>
    public string CorpusName(string label, string extension) =>
        $"{Topology ?? "_"}~{(Workload ?? "_").Replace('/', '+')}~{label}{extension}";

    /// <summary>The companions named by a corpus file name.</summary>
    /// <summary>
    /// Seeds whose event-mode prediction takes seconds (2,048 GPUs, or thousands of tables): the fuzz loop and the corpus
    /// keep them to the analytical model, so the suite stays fast.
    /// </summary>
    public bool Heavy =>
        new[] { Label, Topology ?? "", Workload ?? "" }.Any(s => s.Contains("256node", StringComparison.Ordinal)
            || s.Contains("zionex-model", StringComparison.Ordinal) || s.Contains("1000-tables", StringComparison.Ordinal));

    public static FuzzSeed FromCorpusFile(string path)
    {
        var parts = Path.GetFileNameWithoutExtension(path).Split('~');
        if (parts.Length != 3) throw new InvalidDataException($"corpus file '{Path.GetFileName(path)}' is not named TOPOLOGY~WORKLOAD~LABEL");
        static string? Part(string s) => s == "_" ? null : s;
        return new FuzzSeed(parts[2], File.ReadAllBytes(path), Part(parts[0]), Part(parts[1])?.Replace('+', '/'));
    }
}

/// <summary>
/// One input format: its valid seed files (the shipped ones), and the `sim` commands that read it, each run under
/// the <see cref="Contract"/>. <c>thorough</c> adds the slower readers (event mode, describe, export).
/// </summary>
public abstract class FuzzFormat
{
    public abstract string Name { get; }
    public abstract string Extension { get; }
    public bool Json => Extension == ".json";

    private IReadOnlyList<FuzzSeed>? _seeds;
    public IReadOnlyList<FuzzSeed> Seeds => _seeds ??= MakeSeeds();
    protected abstract IReadOnlyList<FuzzSeed> MakeSeeds();

    /// <summary>Runs the readers of this format on <paramref name="input"/>; returns each command's outcome ("ok" or the error line).</summary>
    public abstract IReadOnlyList<string> Check(byte[] input, FuzzSeed companions, bool thorough);

    public static readonly IReadOnlyList<FuzzFormat> All =
        [new TopologyFormat(), new WorkloadFormat(), new PlanFormat(), new SweepFormat(), new MeasurementFormat(), new TorchRecFormat(), new ProfileFormat()];

    public static FuzzFormat Named(string name) => All.Single(f => f.Name == name);

    protected static FuzzSeed Seed(string repoPath, string? topology, string? workload) =>
        new(Path.GetFileNameWithoutExtension(repoPath), File.ReadAllBytes(Fixtures.Repo(repoPath)), topology, workload);

    protected static string Outcome(CliRunner.Result r) => r.ExitCode == 0 ? "ok" : r.Stderr.Trim();

    /// <summary>`sim predict ... --json` in analytical and (thorough) event mode, each checked as a prediction.</summary>
    protected static List<string> Predict(bool withEvent, params string[] args)
    {
        var outcomes = new List<string>();
        foreach (var mode in withEvent ? new[] { "analytical", "event" } : ["analytical"])
        {
            string[] full = ["predict", .. args, "--json", "--mode", mode];
            var r = Contract.Run(full);
            if (r.ExitCode == 0) Contract.CheckPrediction(r.Stdout, full);
            outcomes.Add(Outcome(r));
        }
        return outcomes;
    }

    /// <summary>The workload each shipped workload predicts on (the smallest shipped topology it fits).</summary>
    protected static readonly (string Workload, string Topology)[] WorkloadHomes =
    [
        ("c-lstm-sst", "h100x4"), ("cewe-wikipedia", "h100x4"), ("dlrm-criteo-kaggle", "h100x4"), ("dlrm-criteo-terabyte", "h100x4"),
        ("dlrm-small", "h100x4"), ("mlperf-dlrm-dcnv2", "h100x4"), ("mlperf-dlrm-v1", "h100x4"), ("synthetic-1000-tables", "zionex-16node"),
        ("tbsm-taobao", "h100x4"), ("zionex-model-a", "zionex-16node"), ("zionex-model-f", "zionex-256node"), ("zionex-model-i", "zionex-16node"),
        ("validation/val-base", "h100x4"), ("validation/val-largebatch", "h100x4"), ("validation/val-manytables", "h100x4"),
        ("validation/val-widedim", "h100x4"), ("sweeps/bench/synthetic-100-tables", "h100x4"),
    ];

    /// <summary>Every shipped plan with the topology and workload it is for.</summary>
    protected static IEnumerable<(string Plan, string Topology, string Workload)> ShippedPlans()
    {
        yield return ("plans/dlrm-small.h100x4.yaml", "h100x4", "dlrm-small");
        yield return ("plans/mlperf-dlrm-v1.zionex-16node.yaml", "zionex-16node", "mlperf-dlrm-v1");
        foreach (var path in Directory.GetFiles(Fixtures.Repo("validation/plans"), "*.yaml").Order(StringComparer.Ordinal))
        {
            var parts = Path.GetFileName(path).Split('.'); // WORKLOAD.Ggpu.VARIANT.yaml
            yield return ($"validation/plans/{Path.GetFileName(path)}", "h100x" + parts[1][..^3], "validation/" + parts[0]);
        }
    }
}

public sealed class TopologyFormat : FuzzFormat
{
    public override string Name => "topology";
    public override string Extension => ".yaml";

    protected override IReadOnlyList<FuzzSeed> MakeSeeds() =>
        Directory.GetFiles(Fixtures.Repo("topologies"), "*.yaml").Order(StringComparer.Ordinal)
            .Select(p => Seed($"topologies/{Path.GetFileName(p)}", null, "dlrm-small")).ToList();

    public override IReadOnlyList<string> Check(byte[] input, FuzzSeed companions, bool thorough)
    {
        using var dir = new Fixtures.TempDir();
        var file = Path.Combine(dir.Path, "in.yaml");
        File.WriteAllBytes(file, input);
        var outcomes = Predict(thorough && !companions.Heavy, file, companions.WorkloadPath);
        if (thorough)
        {
            outcomes.Add(Outcome(Contract.Run("topology", "describe", file)));
            string[] collective = ["collective", file, "--op", "all_to_all", "--bytes", "1,1GiB", "--json", .. companions.Heavy ? new[] { "--ranks", "64" } : []];
            var r = Contract.Run(collective);
            if (r.ExitCode == 0) Contract.CheckCollective(r.Stdout, collective);
            outcomes.Add(Outcome(r));
        }
        return outcomes;
    }
}

public sealed class WorkloadFormat : FuzzFormat
{
    public override string Name => "workload";
    public override string Extension => ".yaml";

    protected override IReadOnlyList<FuzzSeed> MakeSeeds() =>
        WorkloadHomes.Select(h => Seed($"workloads/{h.Workload}.yaml", h.Topology, null)).ToList();

    public override IReadOnlyList<string> Check(byte[] input, FuzzSeed companions, bool thorough)
    {
        using var dir = new Fixtures.TempDir();
        var file = Path.Combine(dir.Path, "in.yaml");
        File.WriteAllBytes(file, input);
        var outcomes = Predict(thorough && !companions.Heavy, companions.TopologyPath, file);
        if (thorough) outcomes.Add(Outcome(Contract.Run("workload", "describe", file)));
        return outcomes;
    }
}

public sealed class PlanFormat : FuzzFormat
{
    public override string Name => "plan";
    public override string Extension => ".yaml";

    protected override IReadOnlyList<FuzzSeed> MakeSeeds() => ShippedPlans().Select(p => Seed(p.Plan, p.Topology, p.Workload)).ToList();

    public override IReadOnlyList<string> Check(byte[] input, FuzzSeed companions, bool thorough)
    {
        using var dir = new Fixtures.TempDir();
        var file = Path.Combine(dir.Path, "in.yaml");
        File.WriteAllBytes(file, input);
        var outcomes = Predict(thorough && !companions.Heavy, companions.TopologyPath, companions.WorkloadPath, file);
        if (thorough) outcomes.Add(Outcome(Contract.Run("torchrec", "export", companions.TopologyPath, companions.WorkloadPath, file)));
        return outcomes;
    }
}

/// <summary>Sweep files; the base's topology and workload are copied beside the file as topo.yaml and work.yaml.</summary>
public sealed class SweepFormat : FuzzFormat
{
    public override string Name => "sweep";
    public override string Extension => ".yaml";

    /// <summary>A small sweep over every kind of axis: 3 x 2 x 2 x 2 x 2 x 2 = 96 configurations on up to 12 GPUs.</summary>
    public const string SmallSweep = """
        name: fuzz-small
        description: every axis kind on a small cluster
        base:
          topology: topo.yaml
          workload: work.yaml
          planner: greedy
          mode: analytical
          overlap: off
          overlap_buckets: 4
        axes:
          nodes: [1, 2, 3]
          gpus_per_node: [2, 4]
          nic_gbps: [100, 400.5]
          hbm_bytes: [80e9, 1e9]
          comm_precision: [fp32, fp16]
          overlap: [off, on]
        """;

    public const string EventSweep = """
        name: fuzz-event
        base: {topology: topo.yaml, workload: work.yaml, planner: balanced}
        axes:
          batch_size_per_gpu: [1024, 2048]
          planner: [greedy, balanced]
          compute_precision: [fp32, bf16]
          nvlink_gbytes_per_second: [450]
          mode: [analytical, event]
        """;

    protected override IReadOnlyList<FuzzSeed> MakeSeeds()
    {
        static byte[] Rebase(string repoPath) => Encoding.UTF8.GetBytes(string.Join('\n', File.ReadAllLines(Fixtures.Repo(repoPath)).Select(l =>
            l.TrimStart().StartsWith("topology:", StringComparison.Ordinal) ? "  topology: topo.yaml"
            : l.TrimStart().StartsWith("workload:", StringComparison.Ordinal) ? "  workload: work.yaml" : l)));
        return
        [
            new("fuzz-small", Encoding.UTF8.GetBytes(SmallSweep), "h100x4", "dlrm-small"),
            new("fuzz-event", Encoding.UTF8.GetBytes(EventSweep), "h100x4", "dlrm-small"),
            new("zionex-scaling", Rebase("workloads/sweeps/zionex-scaling.yaml"), "zionex-16node", "mlperf-dlrm-v1"),
        ];
    }

    public override IReadOnlyList<string> Check(byte[] input, FuzzSeed companions, bool thorough)
    {
        using var dir = new Fixtures.TempDir();
        File.Copy(companions.TopologyPath, Path.Combine(dir.Path, "topo.yaml"));
        File.Copy(companions.WorkloadPath, Path.Combine(dir.Path, "work.yaml"));
        var file = Path.Combine(dir.Path, "in.yaml");
        File.WriteAllBytes(file, input);
        var db = Path.Combine(dir.Path, "in.duckdb");
        string[] args = ["sweep", file, "--out", db, "--threads", "2"];
        var r = Contract.Run(args);
        if (r.ExitCode == 0) Contract.CheckSweep(db, args);
        return [Outcome(r)];
    }
}

/// <summary>Measurement JSON as the harness writes it: `sim validate` reads it (and `sim calibrate`, thorough).</summary>
public sealed class MeasurementFormat : FuzzFormat
{
    public override string Name => "measurement";
    public override string Extension => ".json";

    protected override IReadOnlyList<FuzzSeed> MakeSeeds() =>
        Directory.GetFiles(Fixtures.Repo("validation/runs"), "*.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(p => Seed(Path.GetRelativePath(Fixtures.RepoRoot, p), null, null) with
            {
                Label = Path.GetFileName(Path.GetDirectoryName(p)) + "-" + Path.GetFileNameWithoutExtension(p),
            }).ToList();

    public override IReadOnlyList<string> Check(byte[] input, FuzzSeed companions, bool thorough)
    {
        using var dir = new Fixtures.TempDir();
        var file = Path.Combine(dir.Path, "in.json");
        File.WriteAllBytes(file, input);
        var outcomes = new List<string> { Outcome(Contract.Run("validate", file)) };
        if (thorough)
        {
            var profile = Path.Combine(dir.Path, "profile.json");
            var r = Contract.Run("calibrate", file, "--topology", Fixtures.Repo("topologies/h100x2.yaml"), "--out", profile);
            outcomes.Add(Outcome(r));
            if (r.ExitCode == 0)
                outcomes.AddRange(Predict(false, Fixtures.Repo("topologies/h100x2.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"), "--profile", profile));
        }
        return outcomes;
    }
}

/// <summary>TorchRec plans exported from every shipped plan: `sim torchrec import`, then a prediction with the imported plan.</summary>
public sealed class TorchRecFormat : FuzzFormat
{
    public override string Name => "torchrec";
    public override string Extension => ".json";

    protected override IReadOnlyList<FuzzSeed> MakeSeeds() => ShippedPlans().Select(p =>
    {
        var s = Scenario.Load(Fixtures.Repo($"topologies/{p.Topology}.yaml"), Fixtures.Repo($"workloads/{p.Workload}.yaml"), Fixtures.Repo(p.Plan));
        return new FuzzSeed(Path.GetFileNameWithoutExtension(p.Plan), Encoding.UTF8.GetBytes(TorchRecPlan.Export(s.Plan, s.Cluster)), p.Topology, p.Workload);
    }).ToList();

    public override IReadOnlyList<string> Check(byte[] input, FuzzSeed companions, bool thorough)
    {
        using var dir = new Fixtures.TempDir();
        var file = Path.Combine(dir.Path, "in.json");
        File.WriteAllBytes(file, input);
        var plan = Path.Combine(dir.Path, "plan.yaml");
        var r = Contract.Run("torchrec", "import", companions.TopologyPath, companions.WorkloadPath, file, "--out", plan);
        var outcomes = new List<string> { Outcome(r) };
        if (r.ExitCode == 0) outcomes.AddRange(Predict(thorough && !companions.Heavy, companions.TopologyPath, companions.WorkloadPath, plan));
        return outcomes;
    }
}

/// <summary>Calibration profiles fitted on the shipped runs: `sim predict --profile` (and `sim validate --profile`, thorough).</summary>
public sealed class ProfileFormat : FuzzFormat
{
    public override string Name => "profile";
    public override string Extension => ".json";

    protected override IReadOnlyList<FuzzSeed> MakeSeeds()
    {
        // The shipped profile, and one fitted now on the first run (so the seeds follow the calibrator's current output).
        using var dir = new Fixtures.TempDir();
        var run = Directory.GetDirectories(Fixtures.Repo("validation/runs")).Order(StringComparer.Ordinal).First();
        var fitted = Path.Combine(dir.Path, "fitted.json");
        var r = CliRunner.Run("calibrate", run, "--topology", Fixtures.Repo("topologies/h100x2.yaml"), "--out", fitted);
        if (r.ExitCode != 0) throw new InvalidOperationException($"calibrating on {Path.GetFileName(run)} failed: {r.Stderr}");
        return [Seed("validation/profiles/h100x2.json", "h100x2", "dlrm-small"), new FuzzSeed("fitted", File.ReadAllBytes(fitted), "h100x2", "dlrm-small")];
    }

    public override IReadOnlyList<string> Check(byte[] input, FuzzSeed companions, bool thorough)
    {
        using var dir = new Fixtures.TempDir();
        var file = Path.Combine(dir.Path, "in.json");
        File.WriteAllBytes(file, input);
        var outcomes = Predict(thorough && !companions.Heavy, companions.TopologyPath, companions.WorkloadPath, "--profile", file);
        if (thorough) outcomes.Add(Outcome(Contract.Run("validate", Fixtures.Repo("validation/runs"), "--profile", file)));
        return outcomes;
    }
}
