using Sim.Accounting;
using Sim.Config;
using Sim.Cost;
using Sim.Predictions;
using Sim.Topology;
using Sim.Iterations;
using Sim.Hardware;
using Sim.Cost.Operators;
using Sim.Profiles;
using Sim.Collectives;
using Sim.Measurements;

namespace Sim.Calibration;

/// <summary>A measurement and the file it came from (for error messages and provenance).</summary>
internal sealed record MeasurementFile(string File, Measurement Measurement);

/// <summary>
/// Fits the cost models' parameters to measurements of one (card, software) group:
/// GEMM efficiency as a saturating function of size, embedding forward and backward bandwidths and the
/// per-kernel overhead, latency and bus bandwidth of every collective at every GPU count (messages of 1 MiB
/// and up, nccl-tests conventions), then per-phase corrections from end-to-end runs.
/// </summary>
internal static class Calibrator
{
    /// <summary>Collectives are fitted on messages of at least this many bytes (smaller ones are latency-bound).</summary>
    public const long MinFitBytes = 1 << 20;

    /// <param name="endToEndCorrections">Also fit per-phase corrections and the bucketise cost on end-to-end runs (the
    /// older method). Without it, when the measurements hold an operator grid, the profile comes from microbenchmarks
    /// alone and end-to-end runs only judge it.</param>
    public static CalibrationProfile Fit(Cluster cluster, string topologyName, IReadOnlyList<MeasurementFile> files, Func<MeasurementFile, bool>? useRun = null,
        bool endToEndCorrections = false)
    {
        var ok = files.Where(f => f.Measurement.Status.IsOk).ToList();
        if (ok.Count == 0) throw new SimInputException(files.FirstOrDefault()?.File ?? "runs", "status", "no successful measurement to calibrate from");
        var group = Group(ok);
        var residuals = new List<Residuals>();
        var p = CostParameters.Default;

        var gemm = ok.SelectMany(f => f.Measurement.Micro?.Gemm ?? []).Where(g => g.Dtype == "fp32").ToList();
        if (gemm.Count > 0)
        {
            var peak = cluster.Gpu.PeakFlops(DType.Fp32);
            // 1/eff = 1/E + H/(E·f): a line in 1/f.
            var (a, b) = Statistics.RelativeLine(gemm.Select(g => 1.0 / GemmResult.Flops(g.M, g.K, g.N)).ToArray(),
                                         gemm.Select(g => peak * g.Seconds / GemmResult.Flops(g.M, g.K, g.N)).ToArray());
            var e = Math.Clamp(1 / Math.Max(a, 1e-9), 0.01, 1.0);
            p = p with { GemmEfficiency = e, GemmHalfSaturationFlops = Math.Max(0, b * e) };
            residuals.Add(Residual("gemm fp32", gemm.Select(g => (ComputeCost.GemmSeconds(cluster.Gpu, p with { KernelOverheadSeconds = 0 }, DType.Fp32, GemmResult.Flops(g.M, g.K, g.N), 0), g.Seconds))));
        }

        var emb = ok.SelectMany(f => f.Measurement.Micro?.Embedding ?? []).ToList();
        if (emb.Count > 0)
        {
            var hbm = cluster.Gpu.HbmBytesPerSecond;
            var (fa, fb) = Statistics.RelativeLine(emb.Select(ForwardBytes).ToArray(), emb.Select(x => x.ForwardSeconds).ToArray());
            var (ba, bb) = Statistics.RelativeLine(emb.Select(BackwardBytes).ToArray(), emb.Select(x => x.BackwardSeconds).ToArray());
            p = p with
            {
                EmbeddingEfficiency = Math.Clamp(1 / (Math.Max(fb, 1e-30) * hbm), 0.01, 1),
                EmbeddingBackwardEfficiency = Math.Clamp(1 / (Math.Max(bb, 1e-30) * hbm), 0.01, 1),
                KernelOverheadSeconds = Math.Clamp(fa, 0, 1e-3),
                EmbeddingBackwardShardSeconds = Math.Clamp(ba, 0, 0.1),
            };
            var pk = p;
            residuals.Add(Residual("embedding forward", emb.Select(x => (ComputeCost.EmbeddingSeconds(cluster.Gpu, pk, ForwardBytes(x), 1), x.ForwardSeconds))));
            residuals.Add(Residual("embedding backward", emb.Select(x => (ComputeCost.EmbeddingBackwardSeconds(cluster.Gpu, pk, BackwardBytes(x), 1), x.BackwardSeconds))));
        }

        var fits = new List<CollectiveFit>();
        foreach (var g in ok.SelectMany(f => f.Measurement.Micro?.Collectives ?? []).Where(c => c.WorldSize > 1)
                     .GroupBy(c => (c.Op, c.WorldSize)).OrderBy(g => g.Key.Op, StringComparer.Ordinal).ThenBy(g => g.Key.WorldSize))
        {
            // Several runs may measure the same size: keep the median time of each size.
            var all = g.GroupBy(c => c.Bytes).Select(sz =>
            {
                var times = sz.Select(c => c.Seconds).Order().ToArray();
                return sz.First() with { Seconds = times[times.Length / 2] };
            }).OrderBy(c => c.Bytes).ToList();
            var big = all.Where(c => c.Bytes >= MinFitBytes).ToList();
            if (big.Count < 2) continue;
            var factor = Nccl.CollectiveOps.BusBandwidthFactor(g.Key.Op, g.Key.WorldSize);
            // A line through the two largest sizes: bandwidth for extrapolation and for the engine's links.
            var (lat, slope) = Statistics.Line(big.TakeLast(2).Select(c => c.Bytes * factor).ToArray(), big.TakeLast(2).Select(c => c.Seconds).ToArray());
            var points = all.Select(c => new MeasuredPoint(c.Bytes, c.Seconds)).ToList();
            var fit = new CollectiveFit(g.Key.Op, g.Key.WorldSize, Math.Max(0, lat), 1 / Math.Max(slope, 1e-30), 0, points);
            // Honest error: interpolate each size of 1 MiB and up from its neighbours alone (leave-one-size-out).
            var errors = new List<double>();
            for (var i = 1; i < all.Count - 1; i++)
            {
                if (all[i].Bytes < MinFitBytes) continue;
                var without = fit with { Points = points.Where((_, j) => j != i).ToList() };
                errors.Add(Math.Abs(Statistics.RelativeError(without.Seconds(all[i].Bytes), all[i].Seconds)));
            }
            fits.Add(fit with { MaxRelativeError = errors.DefaultIfEmpty(0).Max() });
            residuals.Add(new Residuals($"{g.Key.Op} x{g.Key.WorldSize} (>= 1 MiB, each size from its neighbours)", errors.Count, errors.DefaultIfEmpty(0).Average(), errors.DefaultIfEmpty(0).Max()));
        }
        if (fits.Count > 0)
        {
            // The event engine shares links, so it needs the fitted bandwidth as a fraction of NVLink's.
            var a2a = fits.Where(f => f.Op == CollectiveCost.AllToAllOp).OrderByDescending(f => f.WorldSize).FirstOrDefault() ?? fits[^1];
            p = p with
            {
                CollectiveFits = fits,
                IntraNodeCollectiveEfficiency = Math.Clamp(a2a.BusBytesPerSecond / cluster.IntraNode.BytesPerSecond, 0.01, 1),
                CollectiveOverheadSeconds = Math.Max(0, a2a.LatencySeconds - cluster.IntraNode.LatencySeconds),
            };
        }

        var micro = ok.Where(f => f.Measurement.Kind == MeasurementKinds.Micro).Select(f => f.Measurement).ToList();
        var operators = OperatorFitter.Fit(micro, residuals);
        var runs = ok.Where(f => f.Measurement.Kind == MeasurementKinds.Run && f.Measurement.EndToEnd is not null && (useRun?.Invoke(f) ?? true)).ToList();
        var fromMicroOnly = operators.Count > 0 && !endToEndCorrections;
        var corrections = new Dictionary<string, PhaseCorrection>(StringComparer.Ordinal);
        if (!fromMicroOnly)
        {
            p = p with { RowSplitBucketiseSeconds = FitBucketise(p, runs) };
            corrections = PhaseCorrections(p, runs);
        }
        p = p with { PhaseCorrections = corrections };
        var parameters = new CalibratedParameters(p.GemmEfficiency, p.GemmHalfSaturationFlops, p.EmbeddingEfficiency, p.EmbeddingBackwardEfficiency,
            p.EmbeddingBackwardShardSeconds, p.RowSplitBucketiseSeconds, p.KernelOverheadSeconds, p.IntraNodeCollectiveEfficiency, p.CollectiveOverheadSeconds, fits, corrections);

        var band = 0.0;
        if (runs.Count > 0)
        {
            // Each run priced with the operator models of the stack it ran (the fitted stack of its form otherwise).
            var errs = runs.Select(r => Math.Abs(Statistics.RelativeError(
                Predict(r, p with { Operators = CalibrationProfile.PickOperators(operators, r.Measurement.Provenance.StackOrDefault) }).IterationSeconds,
                r.Measurement.EndToEnd!.Iteration.Median))).ToList();
            residuals.Add(new Residuals(fromMicroOnly ? "iteration (end-to-end runs, not fitted on)" : "iteration (end-to-end runs)", errs.Count, errs.Average(), errs.Max()));
            band = errs.Max();
        }
        var fitted = fromMicroOnly ? ok.Where(f => f.Measurement.Kind == MeasurementKinds.Micro).ToList() : ok;
        var source = $"calibration profile: {group.Card} x{group.Count}, {group.Software}; fitted on {fitted.Count} measurement(s) from {string.Join(", ", fitted.Select(f => f.File).Distinct())}"
                     + (fromMicroOnly ? " (microbenchmarks only)" : "");
        return new CalibrationProfile(group.Card, group.Count, group.Software, topologyName, ok.Select(f => f.File).Distinct().ToList(), parameters, residuals, band, source,
            operators.Count > 0 ? operators : null, Domain(ok, operators, fits) with
            {
                CardHbmBytesPerSecond = cluster.Gpu.HbmBytesPerSecond, CardPeakFlopsPerSecond = cluster.Gpu.PeakFlops(DType.Fp32),
            });
    }

    private static ProfileDomain Domain(IReadOnlyList<MeasurementFile> ok, IReadOnlyList<Cost.Operators.OperatorModels> operators, IReadOnlyList<CollectiveFit> fits)
    {
        var prov = ok[0].Measurement.Provenance;
        var opResults = ok.SelectMany(f => f.Measurement.Micro?.Operators ?? []).ToList();
        var embedding = opResults.Where(o => o.Op is OperatorNames.EmbeddingForward or OperatorNames.EmbeddingBackward).ToList();
        var legacy = ok.SelectMany(f => f.Measurement.Micro?.Embedding ?? []).ToList();
        double Get(OperatorResult o, string k) => o.Shape.TryGetValue(k, out var v) ? v : 0;
        var optimizers = opResults.Where(o => o.Optimizer is not null).Select(o => o.Optimizer!)
            .Concat(legacy.Select(e => e.Optimizer)).Distinct().Order(StringComparer.Ordinal).ToList();
        return new ProfileDomain(prov.GpuModel, prov.Driver, prov.Cuda, prov.Nccl, prov.Libtorch,
            operators.Select(o => o.MeasuredStack).ToList(),
            optimizers,
            opResults.Select(o => o.Dtype).Concat(legacy.Select(e => e.Dtype)).Distinct().Order(StringComparer.Ordinal).ToList(),
            fits.Select(f => f.WorldSize).Distinct().Order().ToList(),
            ValueRange.Of(embedding.Select(o => Get(o, "batch") * Get(o, "pooling")).Concat(legacy.Select(e => e.Batch * e.Pooling))),
            ValueRange.Of(embedding.Select(o => Get(o, "dim")).Concat(legacy.Select(e => (double)e.Dim))),
            ValueRange.Of(embedding.Select(o => Get(o, "batch")).Concat(legacy.Select(e => (double)e.Batch))));
    }

    /// <summary>Bytes the embedding forward moves for a table-wise table (as <see cref="EmbeddingWork"/> counts them).</summary>
    public static double ForwardBytes(EmbeddingResult x) =>
        x.Batch * x.Pooling * x.Dim * DTypeBytes(x.Dtype) + x.Batch * (double)x.Dim * 4;

    public static double BackwardBytes(EmbeddingResult x)
    {
        var state = x.Optimizer == "rowwise_adagrad" ? 4 : 0;
        var lookups = x.Batch * x.Pooling;
        return x.Batch * (double)x.Dim * 4 + 2 * (lookups * x.Dim * DTypeBytes(x.Dtype) + lookups * state);
    }

    private static int DTypeBytes(string name) => DTypes.Words.TryGetValue(name, out var d) ? d.Bytes() : 4;

    /// <summary>
    /// Seconds per row-split table that the input distribution spends beyond its all-to-all: least squares through
    /// the origin of (measured − modelled exchange) on the number of row-split tables, over the runs.
    /// </summary>
    public static double FitBucketise(CostParameters p, IReadOnlyList<MeasurementFile> runs)
    {
        if (runs.Count == 0) return p.RowSplitBucketiseSeconds;
        var bare = p with { RowSplitBucketiseSeconds = 0, PhaseCorrections = new Dictionary<string, PhaseCorrection>() };
        var i = Phases.IndexOf(Phases.InputDistribution);
        double sxy = 0, sxx = 0;
        foreach (var r in runs)
        {
            var s = ScenarioFromMeasurement.Load(r.Measurement, r.File);
            var x = (double)EmbeddingWork.Compute(s.Cluster, s.Workload, s.Plan).RowSplitTables;
            var y = MeasuredPhases(r)[i] - PhaseMaxima(r, bare)[i];
            sxy += x * y;
            sxx += x * x;
        }
        return sxx > 0 ? Math.Max(0, sxy / sxx) : p.RowSplitBucketiseSeconds;
    }

    /// <summary>Per phase, measured ≈ a + b·modelled over the runs (least squares); the identity where there is too little data.</summary>
    public static Dictionary<string, PhaseCorrection> PhaseCorrections(CostParameters p, IReadOnlyList<MeasurementFile> runs)
    {
        var result = new Dictionary<string, PhaseCorrection>(StringComparer.Ordinal);
        if (runs.Count == 0) return result;
        var uncorrected = p with { PhaseCorrections = new Dictionary<string, PhaseCorrection>() };
        var modelled = runs.Select(r => PhaseMaxima(r, uncorrected)).ToList();
        var measured = runs.Select(MeasuredPhases).ToList();
        for (var i = 0; i < Phases.All.Count; i++)
        {
            var phase = Phases.All[i];
            var x = modelled.Select(m => m[i]).ToArray();
            var y = measured.Select(m => m[i]).ToArray();
            PhaseCorrection c;
            if (runs.Count >= 3 && x.Distinct().Count() >= 2)
            {
                var (a, b) = Statistics.RobustLine(x, y);
                c = b > 0 ? new PhaseCorrection(a, b) : new PhaseCorrection(0, y.Sum() / Math.Max(x.Sum(), 1e-30));
            }
            else c = new PhaseCorrection(0, y.Sum() / Math.Max(x.Sum(), 1e-30));
            result[phase] = c;
        }
        return result;
    }

    /// <summary>
    /// Per phase, what a run measured in a form the model can be compared with: for compute phases the slowest
    /// rank (the harness's per-phase figure); for collectives the fastest rank's median, because a rank's
    /// collective time includes waiting for the others to arrive, and the rank that arrived last did not wait.
    /// </summary>
    public static double[] MeasuredPhases(MeasurementFile run)
    {
        var e = run.Measurement.EndToEnd!;
        return Phases.All.Select((ph, i) => Phases.IsCommunication(ph) && e.RankPhaseMedians.Count > 0
            ? e.RankPhaseMedians.Min(r => r[i])
            : e.Phases[i].Median).ToArray();
    }

    /// <summary>The model's counterpart of <see cref="MeasuredPhases"/>: slowest rank for compute, fastest for collectives.</summary>
    public static double[] PhaseMaxima(MeasurementFile run, CostParameters p)
    {
        var s = ScenarioFromMeasurement.Load(run.Measurement, run.File);
        var graph = IterationGraph.Build(s.Cluster, s.Workload, s.Plan, p);
        return Phases.All.Select(ph => PerRank(graph, ph) is var r && Phases.IsCommunication(ph) ? r.Min() : r.Max()).ToArray();
    }

    /// <summary>[rank][phase]: each rank's predicted seconds in each phase of <see cref="Phases.All"/>.</summary>
    public static double[][] RankPhases(MeasurementFile run, CostParameters p)
    {
        var s = ScenarioFromMeasurement.Load(run.Measurement, run.File);
        var graph = IterationGraph.Build(s.Cluster, s.Workload, s.Plan, p);
        var per = Phases.All.Select(ph => PerRank(graph, ph)).ToArray();
        return Enumerable.Range(0, graph.World).Select(r => per.Select(x => x[r]).ToArray()).ToArray();
    }

    private static double[] PerRank(IterationGraph g, string phase)
    {
        var perRank = new double[g.World];
        foreach (var t in g.Tasks.Where(t => t.Phase == phase))
            for (var r = 0; r < g.World; r++)
                if (t.Kind == TaskKind.Collective || t.Rank == r) perRank[r] += t.SecondsFor(r);
        return perRank;
    }

    public static Prediction Predict(MeasurementFile run, CostParameters p)
    {
        var s = ScenarioFromMeasurement.Load(run.Measurement, run.File);
        return new Predictor(p).Predict(s, PredictionMode.Analytical);
    }

    private static Residuals Residual(string quantity, IEnumerable<(double Predicted, double Measured)> pairs)
    {
        var errs = pairs.Select(x => Math.Abs(Statistics.RelativeError(x.Predicted, x.Measured))).ToList();
        return new Residuals(quantity, errs.Count, errs.Average(), errs.Max());
    }

    /// <summary>The one (card, software) group of the measurements; mixing cards or software versions is refused.</summary>
    public static (string Card, int Count, string Software) Group(IReadOnlyList<MeasurementFile> files)
    {
        // Stacks differ in their framework (TorchSharp, Python), not in what the card runs: CUDA and NCCL must agree.
        static string Software(MeasurementProvenance p) => $"CUDA {p.Cuda}, NCCL {p.Nccl}";
        var first = files[0];
        foreach (var f in files)
        {
            var a = first.Measurement.Provenance;
            var b = f.Measurement.Provenance;
            if (a.GpuModel != b.GpuModel)
                throw new SimInputException(f.File, "provenance.gpu_model", $"'{b.GpuModel}' differs from '{a.GpuModel}' in {first.File}: calibrate each card separately");
            if (Software(a) != Software(b))
                throw new SimInputException(f.File, "provenance", $"software ({Software(b)}) differs from {first.File} ({Software(a)}): calibrate each software stack separately");
        }
        return (first.Measurement.Provenance.GpuModel, files.Max(f => f.Measurement.Provenance.GpuCount), Software(first.Measurement.Provenance));
    }
}
