using System.Globalization;
using Sim.Config;
using Sim.Predictions;
using Sim.Sharding;
using Sim.Sweep;
using Sim.Topology;
using Sim.Workload;
using Sim.Planning;

namespace Sim.Studies;

/// <summary>One row of a reproduction: the paper's value beside Sim's, and the relative error when both are numbers.</summary>
/// <param name="SimValue">Sim's number (null when the counterpart is a yes/no or failed).</param>
/// <param name="RelativeError">(Sim - paper) / paper; null with <see cref="NotNumeric"/> saying why.</param>
/// <param name="ByConstruction">the workload file was derived from the paper's value (model sizes): agreement is not a prediction.</param>
/// <param name="Holds">for a yes/no claim: whether Sim agrees.</param>
internal sealed record ComparisonRow(
    string Id, string Claim, string Class, string Source, string PaperText, double? PaperValue, string Unit,
    double? SimValue, string SimText, double? RelativeError, string? NotNumeric, bool ByConstruction, bool? Holds, string How);

/// <summary>One point of Sim's scaling curve.</summary>
internal sealed record ScalingPoint(int Nodes, int Gpus, long GlobalBatch, double SamplesPerSecond, double Efficiency, string Tiers);

/// <summary>Seconds per phase of one workload's predicted iteration (for the breakdown plot).</summary>
internal sealed record Breakdown(string Workload, string Topology, double IterationSeconds, IReadOnlyList<PhaseTime> Phases);

/// <summary>Median and worst |relative error| over a set of numeric rows.</summary>
internal sealed record ErrorSummary(int Rows, double Median, double Worst, string WorstId);

/// <summary>Everything `sim reproduce` prints, writes as JSON or plots.</summary>
internal sealed record ReproductionResult(
    string Study, string Paper, IReadOnlyList<ComparisonRow> Rows, IReadOnlyList<UncheckableClaim> CannotCheck,
    IReadOnlyList<ScalingPoint> Scaling, string? ScalingTitle, IReadOnlyList<Breakdown> Breakdowns,
    ErrorSummary? All, ErrorSummary? Predicted);

/// <summary>
/// Predicts every checkable claim of a published study (validation/published/STUDY/claims.yaml) from the topology and
/// workload files alone: analytical mode, the workload's stack with no calibration profile, the named planner. No
/// per-claim factor and nothing fitted to the published values.
/// </summary>
internal static class Reproduction
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Studies Sim ships claims for.</summary>
    public static readonly IReadOnlyList<string> Studies = ["zionex"];

    /// <summary>The claims file of a study under the repository root.</summary>
    public static string ClaimsPath(string root, string study) => Path.Combine(root, "validation", "published", study, "claims.yaml");

    /// <summary>
    /// The repository root holding the study's claims: the first of <paramref name="starts"/>' folders or their parents
    /// that has validation/published/STUDY/claims.yaml.
    /// </summary>
    public static string FindRoot(string study, params string[] starts)
    {
        CheckStudy(study);
        foreach (var start in starts)
        {
            for (var dir = Path.GetFullPath(start); dir is not null; dir = Path.GetDirectoryName(dir))
                if (File.Exists(ClaimsPath(dir, study))) return dir;
        }
        throw new SimInputException(Path.Combine("validation", "published", study, "claims.yaml"), "",
            "not found in the current folder or above it; run from the repository, or give --root");
    }

    public static void CheckStudy(string study)
    {
        if (!Studies.Contains(study))
            throw new SimInputException("study", "", $"unknown study '{study}'; expected one of: {string.Join(", ", Studies)}");
    }

    public static ReproductionResult Run(string root, string study, IProgress<string>? progress = null)
    {
        CheckStudy(study);
        var file = ClaimFile.Load(ClaimsPath(root, study));
        var ctx = new Loader(root);
        var rows = new List<ComparisonRow>();
        foreach (var claim in file.Claims)
        {
            progress?.Report($"{claim.Id}: {claim.Text}");
            rows.Add(Evaluate(ctx, claim));
        }

        var scaling = new List<ScalingPoint>();
        string? scalingTitle = null;
        if (file.Scaling is { } s)
        {
            progress?.Report($"scaling of {Path.GetFileNameWithoutExtension(s.Workload)}");
            var (baseCluster, _) = ctx.Cluster(s.Topology);
            var w = ctx.Workload(s.Workload);
            foreach (var nodes in s.Nodes)
            {
                var c = ClusterFamily.Resize(baseCluster, nodes, baseCluster.GpusPerNode, s.Topology);
                var wn = w with { GlobalBatchSize = s.SamplesPerGpu * c.WorldSize };
                var plan = Plan(c, wn, s.Planner);
                MemoryModel.EnsureFits(c, MemoryModel.PerRank(c, wn, plan), $"planner {s.Planner}");
                var p = Predictor.ForWorkload(wn).Predict(new Scenario(c, wn, plan), PredictionMode.Analytical);
                scaling.Add(new ScalingPoint(nodes, c.WorldSize, wn.GlobalBatchSize, p.SamplesPerSecond, 0, TierChoice.Describe(plan) ?? "every table in HBM"));
            }
            var first = scaling[0];
            for (var i = 0; i < scaling.Count; i++)
                scaling[i] = scaling[i] with { Efficiency = scaling[i].SamplesPerSecond / first.SamplesPerSecond * first.Gpus / scaling[i].Gpus };
            scalingTitle = $"{w.Name} on {baseCluster.Name}'s family, {s.SamplesPerGpu} samples per GPU, planner {s.Planner}";
        }

        var breakdowns = new List<Breakdown>();
        foreach (var (topology, workload) in file.Claims.Where(c => c.Sim.Method == ClaimMethod.PlatformRatio)
                     .Select(c => (c.Sim.Topology!, c.Sim.Workload)).Distinct())
        {
            var (c, _) = ctx.Cluster(topology);
            var w = ctx.Workload(workload);
            var p = Predict(c, w, "greedy");
            breakdowns.Add(new Breakdown(w.Name, c.Name, p.IterationSeconds, p.Phases));
        }

        return new ReproductionResult(file.Study, file.Paper, rows, file.CannotCheck, scaling, scalingTitle, breakdowns,
            Summarise(rows.Where(r => r.RelativeError is not null)),
            Summarise(rows.Where(r => r.RelativeError is not null && !r.ByConstruction)));
    }

    private static ErrorSummary? Summarise(IEnumerable<ComparisonRow> rows)
    {
        var list = rows.ToList();
        if (list.Count == 0) return null;
        var abs = list.Select(r => Math.Abs(r.RelativeError!.Value)).Order().ToArray();
        var median = abs.Length % 2 == 1 ? abs[abs.Length / 2] : (abs[abs.Length / 2 - 1] + abs[abs.Length / 2]) / 2;
        var worst = list.OrderByDescending(r => Math.Abs(r.RelativeError!.Value)).ThenBy(r => r.Id, StringComparer.Ordinal).First();
        return new ErrorSummary(list.Count, median, Math.Abs(worst.RelativeError!.Value), worst.Id);
    }

    private static ComparisonRow Evaluate(Loader ctx, Claim claim)
    {
        var s = claim.Sim;
        ComparisonRow Row(double? simValue, string simText, string? notNumeric = null, bool? holds = null)
        {
            double? err = simValue is { } v && claim.Value is { } p ? (v - p) / p : null;
            if (err is null && notNumeric is null)
                notNumeric = claim.Value is null ? "the paper gives no number" : "Sim gives no number";
            return new ComparisonRow(claim.Id, claim.Text, claim.Class, claim.Source, claim.PaperText, claim.Value, claim.Unit,
                simValue, simText, err, err is null ? notNumeric : null,
                s.Method is ClaimMethod.Parameters or ClaimMethod.Mflops, holds, claim.How);
        }

        switch (s.Method)
        {
            case ClaimMethod.Parameters:
            {
                var w = ctx.Workload(s.Workload);
                double v = w.EmbeddingParameters + w.DenseParameters;
                return Row(v, Count(v) + " params");
            }
            case ClaimMethod.Mflops:
            {
                var v = ctx.Workload(s.Workload).DenseForwardFlopsPerSample / 1e6;
                return Row(v, v.ToString("0.##", Inv) + " MFLOPs");
            }
            case ClaimMethod.Fits:
            {
                var (c, _) = ctx.Cluster(s.Topology!);
                var w = ctx.Workload(s.Workload);
                try
                {
                    var plan = Plan(c, w, s.Planner);
                    MemoryModel.EnsureFits(c, MemoryModel.PerRank(c, w, plan), $"planner {s.Planner}");
                    var tiers = TierChoice.Describe(plan) ?? "every table in HBM";
                    return Row(null, $"fits on {c.WorldSize} GPUs; {tiers}", "a yes/no claim: holds", holds: true);
                }
                catch (SimInputException e)
                {
                    return Row(null, $"does not fit: {e.Problem}", "a yes/no claim: does NOT hold", holds: false);
                }
            }
            case ClaimMethod.PlatformRatio:
            {
                var (fast, _) = ctx.Cluster(s.Topology!);
                var (slow, _) = ctx.Cluster(s.BaselineTopology!);
                var w = ctx.Workload(s.Workload);
                var a = Predict(fast, w, s.Planner);
                var b = Predict(slow, w, s.Planner);
                var v = a.SamplesPerSecond / b.SamplesPerSecond;
                return Row(v, $"{v.ToString("0.00", Inv)}x ({Rate(a.SamplesPerSecond)} vs {Rate(b.SamplesPerSecond)} samples/s)");
            }
            case ClaimMethod.PrecisionGain:
            {
                var (c0, file) = ctx.Cluster(s.Topology!);
                var c = s.Nodes is { } n ? ClusterFamily.Resize(c0, n, c0.GpusPerNode, file) : c0;
                var w0 = ctx.Workload(s.Workload);
                var w = w0 with { GlobalBatchSize = w0.GlobalBatchSize / c0.WorldSize * c.WorldSize };
                var a = Predict(c, Apply(w, s.Improved!), s.Planner);
                var b = Predict(c, Apply(w, s.Baseline!), s.Planner);
                var v = a.SamplesPerSecond / b.SamplesPerSecond;
                var text = $"{v.ToString("0.00", Inv)}x on {c.WorldSize} GPUs ({Rate(a.SamplesPerSecond)} vs {Rate(b.SamplesPerSecond)} samples/s)";
                return Row(v, text, claim.Value is null ? "the paper reports no throughput for it" : null);
            }
            default:
                throw new InvalidOperationException($"unhandled method {s.Method}");
        }
    }

    /// <summary>The workload with a claim's dtypes: dense compute, all three collectives, every table's rows.</summary>
    public static DlrmWorkload Apply(DlrmWorkload w, PrecisionKnobs k)
    {
        var p = w.Precision;
        if (k.Compute is { } compute) p = p with { Compute = compute };
        if (k.Communication is { } comm) p = p with { AllToAllForward = comm, AllToAllBackward = comm, AllReduce = comm };
        var tables = k.Tables is { } t ? w.Tables.Select(x => x with { DType = t }).ToArray() : w.Tables;
        return w with { Name = $"{w.Name} ({k.Describe()})", Precision = p, Tables = tables };
    }

    private static ShardingPlan Plan(Cluster c, DlrmWorkload w, string planner)
    {
        Scenario.CheckBatch(c, w, w.Name);
        return Scenario.MakePlan(c, w, planner, w.Name);
    }

    private static Prediction Predict(Cluster c, DlrmWorkload w, string planner)
    {
        var plan = Plan(c, w, planner);
        MemoryModel.EnsureFits(c, MemoryModel.PerRank(c, w, plan), $"planner {planner}");
        return Predictor.ForWorkload(w).Predict(new Scenario(c, w, plan), PredictionMode.Analytical);
    }

    private static string Rate(double v) => v.ToString("N0", Inv);

    private static string Count(double v) =>
        v >= 1e12 ? (v / 1e12).ToString("0.###", Inv) + " T" : v >= 1e9 ? (v / 1e9).ToString("0.#", Inv) + " B" : v.ToString("N0", Inv);

    /// <summary>Loads (and keeps) the files a study names, relative to the repository root.</summary>
    private sealed class Loader(string root)
    {
        private readonly Dictionary<string, Cluster> _clusters = new(StringComparer.Ordinal);
        private readonly Dictionary<string, DlrmWorkload> _workloads = new(StringComparer.Ordinal);

        public (Cluster Cluster, string File) Cluster(string path)
        {
            if (!_clusters.TryGetValue(path, out var c)) _clusters[path] = c = TopologyLoader.Load(Path.Combine(root, path));
            return (c, path);
        }

        public DlrmWorkload Workload(string path)
        {
            if (!_workloads.TryGetValue(path, out var w)) _workloads[path] = w = WorkloadLoader.Load(Path.Combine(root, path));
            return w;
        }
    }
}
