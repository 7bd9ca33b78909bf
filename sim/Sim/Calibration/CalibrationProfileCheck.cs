using System.Globalization;
using Sim.Config;

namespace Sim.Calibration;

/// <summary>
/// Checks a profile read from JSON for what its types cannot say: every number finite and in range (JSON's named
/// literals let "NaN" through), no null entries, collective points in increasing size. A profile that passes gives
/// finite, positive predictions; one that does not is bad input, named by its field.
/// </summary>
public static class CalibrationProfileCheck
{
    public static void Check(CalibrationProfile p, string file)
    {
        void Require(bool ok, string field, double value, string range)
        {
            if (!ok) throw new SimInputException(file, field, $"must be {range}, found {value.ToString("R", CultureInfo.InvariantCulture)}");
        }
        void Fraction(string field, double v) => Require(v > 0 && v <= 1, field, v, "a fraction in (0, 1]");
        void Seconds(string field, double v) => Require(v >= 0 && v <= 1, field, v, "from 0 to 1 seconds");
        void NonNull(object? o, string field)
        {
            if (o is null) throw new SimInputException(file, field, "must not be null");
        }

        var q = p.Parameters;
        Fraction("parameters.gemm_efficiency", q.GemmEfficiency);
        Fraction("parameters.embedding_efficiency", q.EmbeddingEfficiency);
        Fraction("parameters.embedding_backward_efficiency", q.EmbeddingBackwardEfficiency);
        Fraction("parameters.intra_node_collective_efficiency", q.IntraNodeCollectiveEfficiency);
        Require(q.GemmHalfSaturationFlops >= 0 && q.GemmHalfSaturationFlops <= 1e30, "parameters.gemm_half_saturation_flops", q.GemmHalfSaturationFlops, "from 0 to 1e30");
        Seconds("parameters.embedding_backward_shard_seconds", q.EmbeddingBackwardShardSeconds);
        Seconds("parameters.row_split_bucketise_seconds", q.RowSplitBucketiseSeconds);
        Seconds("parameters.kernel_overhead_seconds", q.KernelOverheadSeconds);
        Seconds("parameters.collective_overhead_seconds", q.CollectiveOverheadSeconds);
        Require(p.IterationErrorBand >= 0 && p.IterationErrorBand <= 100, "iteration_error_band", p.IterationErrorBand, "from 0 to 100");

        for (var i = 0; i < q.Collectives.Count; i++)
        {
            var f = $"parameters.collectives[{i}]";
            var c = q.Collectives[i];
            NonNull(c, f);
            Require(c.WorldSize >= 1, $"{f}.world_size", c.WorldSize, "at least 1");
            Seconds($"{f}.latency_seconds", c.LatencySeconds);
            Require(c.BusBytesPerSecond > 0 && c.BusBytesPerSecond <= 1e18, $"{f}.bus_bytes_per_second", c.BusBytesPerSecond, "positive and at most 1e18");
            Require(c.MaxRelativeError >= 0 && double.IsFinite(c.MaxRelativeError), $"{f}.max_relative_error", c.MaxRelativeError, "finite and non-negative");
            if (c.Points is not { } points) continue;
            for (var j = 0; j < points.Count; j++)
            {
                var pf = $"{f}.points[{j}]";
                NonNull(points[j], pf);
                Require(points[j].Bytes >= 0 && points[j].Bytes <= 1e18, $"{pf}.bytes", points[j].Bytes, "from 0 to 1e18");
                Require(points[j].Seconds >= 0 && points[j].Seconds <= 3600, $"{pf}.seconds", points[j].Seconds, "from 0 to 3600");
                if (j > 0) Require(points[j].Bytes > points[j - 1].Bytes, $"{pf}.bytes", points[j].Bytes, "larger than the point before (points go up in size)");
            }
        }
        foreach (var (phase, c) in q.PhaseCorrections)
        {
            var f = $"parameters.phase_corrections.{phase}";
            NonNull(c, f);
            Require(c.OffsetSeconds >= -1 && c.OffsetSeconds <= 1, $"{f}.offset_seconds", c.OffsetSeconds, "from -1 to 1 seconds");
            Require(c.Scale > 0 && c.Scale <= 1e6, $"{f}.scale", c.Scale, "positive and at most 1e6");
        }
        for (var i = 0; i < p.Residuals.Count; i++)
        {
            var r = p.Residuals[i];
            NonNull(r, $"residuals[{i}]");
            Require(double.IsFinite(r.MeanAbsoluteRelativeError) && r.MeanAbsoluteRelativeError >= 0, $"residuals[{i}].mean_absolute_relative_error", r.MeanAbsoluteRelativeError, "finite and non-negative");
            Require(double.IsFinite(r.MaxAbsoluteRelativeError) && r.MaxAbsoluteRelativeError >= 0, $"residuals[{i}].max_absolute_relative_error", r.MaxAbsoluteRelativeError, "finite and non-negative");
        }
        for (var i = 0; i < p.Runs.Count; i++) NonNull(p.Runs[i], $"runs[{i}]");
    }
}
