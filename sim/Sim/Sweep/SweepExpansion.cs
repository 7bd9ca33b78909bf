using System.Security.Cryptography;
using System.Text;
using Sim.Config;
using Sim.Topology;
using Sim.Workload;
using Sim.Predictions;

namespace Sim.Sweep;

/// <summary>
/// The loaded base of a sweep: cluster, workload and plan text, and a fingerprint of their contents that every
/// key includes (so editing an input file gives new keys, while moving or renaming it does not).
/// </summary>
public sealed class SweepInputs
{
    /// <summary>Bump when a change to the row schema or the meaning of a key makes old rows unusable.</summary>
    public const string KeyVersion = "sim-sweep-key v1";

    public Cluster Cluster { get; }
    public DlrmWorkload Workload { get; }
    public string WorkloadFile { get; }
    public string TopologyFile { get; }
    public string? PlanText { get; }
    public string? PlanFile { get; }
    public int OverlapBuckets { get; }
    /// <summary>What every configuration is planned and predicted with (a calibration profile's, or the defaults).</summary>
    public Predictor Predictor { get; }
    public string Fingerprint { get; }
    /// <summary>Iterations simulated per configuration under jitter, and the seed of the draws.</summary>
    public int Iterations { get; }
    public ulong Seed { get; }

    public SweepInputs(Cluster cluster, DlrmWorkload workload, string workloadFile, string topologyText, string workloadText,
        string? planText = null, string? planFile = null, int overlapBuckets = 4, Predictor? predictor = null, string topologyFile = "topology",
        int iterations = Conditions.OperatingConditions.DefaultIterations, ulong seed = Conditions.OperatingConditions.DefaultSeed)
    {
        Iterations = iterations; Seed = seed;
        Cluster = cluster; Workload = workload; WorkloadFile = workloadFile; TopologyFile = topologyFile; PlanText = planText; PlanFile = planFile;
        OverlapBuckets = overlapBuckets; Predictor = predictor ?? Predictor.ForWorkload(workload);
        Fingerprint = string.Join('\n',
            KeyVersion,
            "topology " + Sha(topologyText),
            "workload " + Sha(workloadText),
            "plan " + (planText is null ? "none" : Sha(planText)),
            "overlap_buckets " + overlapBuckets.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // JSON, not the record's ToString: that prints collections as type names and would hide a calibration's fits.
            "cost " + System.Text.Json.JsonSerializer.Serialize(Predictor.Cost));
        // Only when not the defaults: sweeps that never sample keep their keys.
        if (iterations != Conditions.OperatingConditions.DefaultIterations || seed != Conditions.OperatingConditions.DefaultSeed)
            Fingerprint += "\nconditions iterations " + iterations.ToString(System.Globalization.CultureInfo.InvariantCulture) + " seed " + seed.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public static SweepInputs Load(SweepSpec spec, Predictor? predictor = null)
    {
        var topologyText = File.ReadAllText(spec.TopologyPath);
        var workloadText = File.ReadAllText(spec.WorkloadPath);
        var topoName = Path.GetFileName(spec.TopologyPath);
        var workName = Path.GetFileName(spec.WorkloadPath);
        var cluster = TopologyLoader.Parse(topologyText, topoName);
        var workload = WorkloadLoader.Parse(workloadText, workName);
        var planText = spec.PlanPath is null ? null : File.ReadAllText(spec.PlanPath);
        return new SweepInputs(cluster, workload, workName, topologyText, workloadText, planText,
            spec.PlanPath is null ? null : Path.GetFileName(spec.PlanPath), spec.OverlapBuckets, predictor, topologyFile: topoName,
            iterations: spec.Iterations, seed: spec.Seed);
    }

    /// <summary>The point every axis starts from: the base files' own values.</summary>
    public SweepPoint BasePoint(string planner, bool overlap, PredictionMode mode) =>
        SweepKnobs.FromInputs(SweepPoint.Unset with { Planner = PlanFile is null ? planner : "plan:" + PlanFile, Overlap = overlap, Mode = mode },
            Cluster, Workload);

    /// <summary>Line endings are normalised so that a Windows checkout gives the same keys.</summary>
    internal static string Sha(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.Replace("\r\n", "\n", StringComparison.Ordinal))));
}

/// <summary>One of N disjoint parts of a sweep, chosen by key: for Slurm job arrays and Kubernetes indexed jobs.</summary>
public readonly record struct SweepShard(int Index, int Count)
{
    public static readonly SweepShard All = new(0, 1);

    public bool Contains(string key) => Count <= 1 || (int)(ulong.Parse(key.AsSpan(0, 16), System.Globalization.NumberStyles.HexNumber) % (ulong)Count) == Index;

    public override string ToString() => $"{Index}/{Count}";

    /// <summary>Parses "I/N" with 0 &lt;= I &lt; N (0-based, like SLURM_ARRAY_TASK_ID from 0 and JOB_COMPLETION_INDEX).</summary>
    public static SweepShard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out var i) || !int.TryParse(parts[1], out var n))
            throw new SimInputException("--shard", "", $"expected I/N such as 0/4, found '{text}'");
        if (n < 1 || n > 1_000_000) throw new SimInputException("--shard", "", $"N must be between 1 and 1,000,000, found {n}");
        if (i < 0 || i >= n) throw new SimInputException("--shard", "", $"I must be between 0 and {n - 1} (parts are numbered from 0), found {i}");
        return new SweepShard(i, n);
    }

    /// <summary>
    /// The part a scheduler's array task runs, when the environment says so: Slurm job arrays
    /// (SLURM_ARRAY_TASK_ID from SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT tasks) or Kubernetes Indexed Jobs
    /// (JOB_COMPLETION_INDEX, with the count in SIM_SHARD_COUNT: Kubernetes does not put `completions` in the pod's
    /// environment). Null when neither is set; <paramref name="source"/> names the variables used.
    /// </summary>
    public static SweepShard? FromEnvironment(Func<string, string?> env, out string source)
    {
        source = "";
        if (env("SLURM_ARRAY_TASK_ID") is { } id && env("SLURM_ARRAY_TASK_COUNT") is { } count)
        {
            var min = env("SLURM_ARRAY_TASK_MIN") is { } m ? Number("SLURM_ARRAY_TASK_MIN", m) : 0;
            var stride = env("SLURM_ARRAY_TASK_STEP") is { } st ? Number("SLURM_ARRAY_TASK_STEP", st) : 1;
            var index = Number("SLURM_ARRAY_TASK_ID", id) - min;
            if (stride < 1 || index % stride != 0)
                throw new SimInputException("SLURM_ARRAY_TASK_ID", "", $"task {id} is not on the array's grid (min {min}, step {stride}): run the array as --array=0-{{N-1}}");
            source = "SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT";
            return Checked(index / stride, Number("SLURM_ARRAY_TASK_COUNT", count), source);
        }
        if (env("JOB_COMPLETION_INDEX") is { } k)
        {
            var n = env("SIM_SHARD_COUNT") ?? throw new SimInputException("SIM_SHARD_COUNT", "",
                "required beside JOB_COMPLETION_INDEX: set it to the Indexed Job's completions (docs/sweeps-on-schedulers.md)");
            source = "JOB_COMPLETION_INDEX, SIM_SHARD_COUNT";
            return Checked(Number("JOB_COMPLETION_INDEX", k), Number("SIM_SHARD_COUNT", n), source);
        }
        return null;
    }

    private static int Number(string variable, string value) =>
        int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v
            : throw new SimInputException(variable, "", $"expected a whole number, found '{value}'");

    private static SweepShard Checked(int index, int count, string source)
    {
        try { return Parse($"{index}/{count}"); }
        catch (SimInputException e) { throw new SimInputException(source, "", e.Problem); }
    }
}

/// <summary>The cross product of a sweep's axes, each point with its deterministic key.</summary>
internal static class SweepExpansion
{
    /// <param name="modeOverride">the CLI's --mode: replaces the base mode (an error when the file has a mode axis).</param>
    public static IReadOnlyList<SweepPoint> Expand(SweepSpec spec, SweepInputs inputs, PredictionMode? modeOverride = null, SweepShard? shard = null) =>
        Stream(spec, inputs, modeOverride, shard).ToList();

    /// <summary>The same points one at a time, in the same order: a sweep of any size holds one point, not all of them.</summary>
    public static IEnumerable<SweepPoint> Stream(SweepSpec spec, SweepInputs inputs, PredictionMode? modeOverride = null, SweepShard? shard = null)
    {
        if (modeOverride is not null && spec.Varies("mode"))
            throw new SimInputException("--mode", "", $"{spec.File} varies mode in its axes; drop --mode");
        if (modeOverride == PredictionMode.Analytical && spec.Axes.FirstOrDefault(a => a.Axis.EventOnly is not null) is { } eventOnly)
            throw new SimInputException("--mode", "", $"{spec.File} varies {eventOnly.Axis.Name}, which only the event engine sees; drop --mode analytical");
        var basePoint = inputs.BasePoint(spec.Planner, spec.Overlap, modeOverride ?? spec.Mode);
        return Stream(basePoint, spec.Axes, inputs.Fingerprint, shard ?? SweepShard.All);
    }

    public static IReadOnlyList<SweepPoint> Expand(SweepPoint basePoint, IReadOnlyList<AxisValues> axes, string fingerprint, SweepShard shard) =>
        Stream(basePoint, axes, fingerprint, shard).ToList();

    private static IEnumerable<SweepPoint> Stream(SweepPoint basePoint, IReadOnlyList<AxisValues> axes, string fingerprint, SweepShard shard)
    {
        var total = axes.Aggregate(1L, (n, a) => checked(n * a.Values.Count));
        var index = new int[axes.Count];
        var prefix = Encoding.UTF8.GetBytes(fingerprint + "\n");
        for (long k = 0; k < total; k++)
        {
            var p = basePoint;
            for (var a = 0; a < axes.Count; a++) p = axes[a].Axis.Apply(p, axes[a].Values[index[a]]);
            var key = Key(prefix, p);
            if (shard.Contains(key)) yield return p with { Key = key };
            // Odometer: the last axis (overlap, mode) turns fastest.
            for (var a = axes.Count - 1; a >= 0; a--)
            {
                if (++index[a] < axes[a].Values.Count) break;
                index[a] = 0;
            }
        }
    }

    /// <summary>128-bit hex key: SHA-256 of the inputs' fingerprint and the point's canonical text.</summary>
    public static string Key(string fingerprint, SweepPoint p) => Key(Encoding.UTF8.GetBytes(fingerprint + "\n"), p);

    private static string Key(byte[] prefix, SweepPoint p)
    {
        var text = Encoding.UTF8.GetBytes(p.CanonicalText());
        var buffer = new byte[prefix.Length + text.Length];
        prefix.CopyTo(buffer, 0);
        text.CopyTo(buffer, prefix.Length);
        return Convert.ToHexStringLower(SHA256.HashData(buffer), 0, 16);
    }
}
