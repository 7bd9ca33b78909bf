using System.Globalization;
using Sim.Config;

namespace Sim.Profiles;

/// <summary>
/// Checks a profile read from JSON for what its types cannot say: every number finite and in range (JSON's named
/// literals let "NaN" through), no null entries, collective points in increasing size. A profile that passes gives
/// finite, positive predictions; one that does not is bad input, named by its field.
/// </summary>
internal static class CalibrationProfileCheck
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

        // Operator models: every coefficient a finite, non-negative number of seconds per unit (at most a second),
        // every measured shape positive: a profile that passes gives finite predictions.
        void Cost(string f, Cost.Operators.LinearCost? c)
        {
            NonNull(c, f);
            NonNull(c!.Terms, $"{f}.terms");
            foreach (var (k, v) in c.Terms) Require(double.IsFinite(v) && v >= 0 && v <= 1, $"{f}.terms.{k}", v, "from 0 to 1 seconds per unit");
        }
        void Pair(string f, Cost.Operators.CostPair? c)
        {
            NonNull(c, f);
            Cost($"{f}.device", c!.Device);
            Cost($"{f}.host", c.Host);
        }
        void Points(string f, IReadOnlyList<Cost.Operators.GemmPoint>? pts)
        {
            NonNull(pts, f);
            for (var j = 0; j < pts!.Count; j++)
            {
                NonNull(pts[j], $"{f}[{j}]");
                foreach (var (k, v) in new[] { ("m", pts[j].M), ("k", pts[j].K), ("n", pts[j].N) })
                    Require(double.IsFinite(v) && v >= 1 && v <= 1e12, $"{f}[{j}].{k}", v, "from 1 to 1e12");
                Require(double.IsFinite(pts[j].Seconds) && pts[j].Seconds > 0 && pts[j].Seconds <= 3600, $"{f}[{j}].seconds", pts[j].Seconds, "positive and at most 3600");
                NonNull(pts[j].Dtype, $"{f}[{j}].dtype");
            }
        }
        for (var i = 0; i < (p.Operators?.Count ?? 0); i++)
        {
            var f = $"operators[{i}]";
            var o = p.Operators![i];
            NonNull(o, f);
            NonNull(o.MeasuredStack, $"{f}.measured_stack");
            NonNull(o.Form, $"{f}.form");
            Pair($"{f}.embedding_forward", o.EmbeddingForward);
            NonNull(o.EmbeddingBackward, $"{f}.embedding_backward");
            foreach (var (k, c) in o.EmbeddingBackward) Pair($"{f}.embedding_backward.{k}", c);
            NonNull(o.DenseOptimizer, $"{f}.dense_optimizer");
            foreach (var (k, c) in o.DenseOptimizer) Pair($"{f}.dense_optimizer.{k}", c);
            Pair($"{f}.slice_assembly", o.SliceAssembly);
            if (o.InputBucketize is { } b) Pair($"{f}.input_bucketize", b);
            if (o.GradientPack is { } gp) Pair($"{f}.gradient_pack", gp);
            if (o.InputPack is { } ip) Pair($"{f}.input_pack", ip);
            foreach (var (k, c) in o.CollectiveCall ?? new Dictionary<string, Cost.Operators.LinearCost>()) Cost($"{f}.collective_call.{k}", c);
            Seconds($"{f}.kernel_issue_seconds", o.KernelIssueSeconds);
            Seconds($"{f}.kernel_floor_seconds", o.KernelFloorSeconds);
            Seconds($"{f}.backward_call_seconds", o.BackwardCallSeconds);
            Require(double.IsFinite(o.StreamBytesPerSecond) && o.StreamBytesPerSecond >= 1e6 && o.StreamBytesPerSecond <= 1e18,
                $"{f}.stream_bytes_per_second", o.StreamBytesPerSecond, "from 1e6 to 1e18");
            Points($"{f}.gemm", o.Gemm);
            foreach (var (k, g) in o.Shapes ?? new Dictionary<string, Cost.Operators.ShapeGrid>())
            {
                NonNull(g, $"{f}.shapes.{k}");
                Points($"{f}.shapes.{k}.device", g.Device);
                Cost($"{f}.shapes.{k}.host", g.Host);
            }
        }
        if (p.Domain is { } d)
        {
            foreach (var (k, v) in new[] { ("card_hbm_bytes_per_second", d.CardHbmBytesPerSecond), ("card_peak_flops_per_second", d.CardPeakFlopsPerSecond) })
                if (v is { } x) Require(double.IsFinite(x) && x >= 1e6 && x <= 1e20, $"domain.{k}", x, "from 1e6 to 1e20");
            NonNull(d.Card, "domain.card");
        }
    }
}
