using Sim.Cost.Operators;
using Sim.Profiles;
using Sim.Measurements;

namespace Sim.Calibration;

/// <summary>
/// Fits each stack's operator models (<see cref="OperatorModels"/>) on microbenchmarks of the operators alone
/// (`micro.operators`; the harness's older `micro.embedding` and `micro.gemm` count as the harness-fused stack): every
/// cost is a non-negative combination of its terms, chosen by relative least squares over every subset of terms
/// (so that a term the data cannot see gets 0, not a negative coefficient). No end-to-end run is used.
/// </summary>
internal static class OperatorFitter
{
    public static IReadOnlyList<OperatorModels> Fit(IReadOnlyList<Measurement> micro, List<Residuals> residuals)
    {
        var ops = micro.SelectMany(m => m.Micro?.Operators ?? []).ToList();
        // Older harness measurements: the fused backward with its optimizer, and GEMMs, in their own records.
        foreach (var m in micro.Where(m => m.Micro?.Embedding is { Count: > 0 }))
            foreach (var e in m.Micro!.Embedding!)
            {
                var shape = new Dictionary<string, double> { ["rows"] = e.Rows, ["dim"] = e.Dim, ["batch"] = e.Batch, ["pooling"] = e.Pooling };
                ops.Add(new OperatorResult(OperatorNames.EmbeddingForward, MeasurementStacks.HarnessFused, e.Dtype, null, shape, e.ForwardSeconds, 0));
                ops.Add(new OperatorResult(OperatorNames.EmbeddingBackward, MeasurementStacks.HarnessFused, e.Dtype, e.Optimizer, shape, e.BackwardSeconds, 0));
            }
        var legacyGemm = micro.SelectMany(m => m.Micro?.Gemm ?? [])
            .Select(g => new GemmPoint(g.M, g.K, g.N, g.Dtype, g.Seconds)).ToList();
        var result = new List<OperatorModels>();
        foreach (var stack in ops.Select(o => o.Stack).Distinct().Order(StringComparer.Ordinal))
        {
            var mine = ops.Where(o => o.Stack == stack).ToList();
            if (!mine.Any(o => o.Op == OperatorNames.EmbeddingForward)) continue;
            result.Add(FitStack(stack, mine, ops, legacyGemm, residuals));
        }
        return result;
    }

    private static OperatorModels FitStack(string stack, List<OperatorResult> mine, List<OperatorResult> all, List<GemmPoint> legacyGemm, List<Residuals> residuals)
    {
        string[] shardTerms = [CostTerms.Calls, CostTerms.Lookups, CostTerms.LookupBytes, CostTerms.PooledBytes, CostTerms.UniqueRowBytes];
        string[] hostTerms = [CostTerms.Calls, CostTerms.Lookups];
        var fwd = mine.Where(o => o.Op == OperatorNames.EmbeddingForward).ToList();
        var forward = FitPair($"{stack} embedding forward", fwd, ShardFeatures, [CostTerms.Calls, CostTerms.Lookups, CostTerms.LookupBytes, CostTerms.PooledBytes], hostTerms, residuals);
        var backward = new SortedDictionary<string, CostPair>(StringComparer.Ordinal);
        foreach (var g in mine.Where(o => o.Op == OperatorNames.EmbeddingBackward && o.Optimizer is not null).GroupBy(o => o.Optimizer!).OrderBy(g => g.Key, StringComparer.Ordinal))
            backward[g.Key] = FitPair($"{stack} embedding backward + {g.Key}", g.ToList(), ShardFeatures, shardTerms, hostTerms, residuals);
        var dense = new SortedDictionary<string, CostPair>(StringComparer.Ordinal);
        foreach (var g in mine.Where(o => o.Op == OperatorNames.DenseOptimizer && o.Optimizer is not null).GroupBy(o => o.Optimizer!).OrderBy(g => g.Key, StringComparer.Ordinal))
            dense[g.Key] = FitPair($"{stack} dense optimizer {g.Key}", g.ToList(), o => new()
            {
                [CostTerms.Calls] = 1, [CostTerms.Tensors] = o.Shape.TryGetValue("tensors", out var t) ? t : 1, [CostTerms.Parameters] = S(o, "params"),
            }, [CostTerms.Calls, CostTerms.Tensors, CostTerms.Parameters], [CostTerms.Calls, CostTerms.Tensors], residuals);
        var sliceOps = mine.Where(o => o.Op == OperatorNames.SliceAssembly).ToList();
        var slices = sliceOps.Count == 0 ? CostPair.Zero
            : FitPair($"{stack} slice assembly", sliceOps, o => new()
            {
                [CostTerms.Calls] = 1, [CostTerms.Slices] = S(o, "slices"), [CostTerms.Bytes] = CostTerms.SliceBytes(S(o, "slices"), S(o, "batch") * S(o, "slices") * S(o, "dim") * 4),
            }, [CostTerms.Calls, CostTerms.Slices, CostTerms.Bytes], [CostTerms.Calls, CostTerms.Slices], residuals);

        var elementwise = mine.Where(o => o.Op == OperatorNames.Elementwise).OrderBy(o => S(o, "elements")).ToList();
        var issue = elementwise.Count > 0 ? elementwise[0].HostSeconds : 0;
        var floor = elementwise.Count > 0 ? elementwise[0].DeviceSeconds : 0;
        var big = elementwise.LastOrDefault(o => S(o, "elements") >= 1e7);
        var stream = big is not null ? 8 * S(big, "elements") / big.DeviceSeconds : 0;

        // GEMMs run in cuBLAS whatever the stack: a stack without its own grid uses any stack's measured on this card.
        var gemm = mine.Where(o => o.Op == OperatorNames.Gemm).ToList();
        if (gemm.Count == 0) gemm = all.Where(o => o.Op == OperatorNames.Gemm).ToList();
        var points = gemm.Select(o => new GemmPoint(S(o, "m"), S(o, "k"), S(o, "n"), o.Dtype, o.DeviceSeconds)).ToList();
        if (points.Count == 0) points = legacyGemm;
        points = points.GroupBy(p => (p.M, p.K, p.N, p.Dtype)).Select(g => g.First() with { Seconds = Statistics.Median(g.Select(p => p.Seconds).ToList()) })
            .OrderBy(p => p.Dtype, StringComparer.Ordinal).ThenBy(p => p.M).ThenBy(p => p.K).ThenBy(p => p.N).ToList();
        if (points.Count >= 20)
        {
            // Honest error of a grid (a handful of shapes far apart is not one): each point predicted from the others alone.
            var errs = new List<double>();
            for (var i = 0; i < points.Count; i++)
            {
                var others = new GemmGrid(points.Where((_, j) => j != i).ToList());
                if (others.Seconds(points[i].M, points[i].K, points[i].N, points[i].Dtype) is { } s) errs.Add(Math.Abs(Statistics.RelativeError(s, points[i].Seconds)));
            }
            if (errs.Count > 0) residuals.Add(new Residuals($"{stack} gemm (each shape from its neighbours)", errs.Count, errs.Average(), errs.Max()));
        }
        if (stream <= 0) stream = 2e12; // only when no elementwise kernel was measured: a third of H100/H200 HBM, flagged by the domain

        // The fixed cost of one backward() call: the smallest slice-assembly call (one slice, little data) is little else.
        var backwardCall = sliceOps.Count == 0 ? 0 : sliceOps.Min(o => o.WallSeconds ?? o.DeviceSeconds);
        // Linear layers and the interaction run the same libtorch kernels on every stack on this card: a stack without
        // its own grid uses another's (its device times; the host cost comes with them).
        var shapes = new SortedDictionary<string, ShapeGrid>(StringComparer.Ordinal);
        foreach (var (op, keys) in ShapeOps)
        {
            var pts = mine.Where(o => o.Op == op).ToList();
            if (pts.Count == 0) pts = all.Where(o => o.Op == op).ToList();
            if (pts.Count == 0) continue;
            // A backward measured alone pays one autograd-engine start, which a step pays once for all its operators.
            var once = op.EndsWith("backward", StringComparison.Ordinal) ? backwardCall : 0;
            var grid = pts.Select(o => new GemmPoint(S(o, keys[0]), S(o, keys[1]), S(o, keys[2]), o.Dtype, Math.Max(o.DeviceSeconds - once, 0.2 * o.DeviceSeconds))).ToList();
            var host = NonNegative(pts.Select(_ => new Dictionary<string, double> { [CostTerms.Calls] = 1 }).ToList(), pts.Select(o => o.HostSeconds).ToList(), [CostTerms.Calls]);
            shapes[op] = new ShapeGrid(grid, host);
        }
        var bucket = mine.Where(o => o.Op == OperatorNames.InputBucketize).ToList();
        if (bucket.Count == 0) bucket = all.Where(o => o.Op == OperatorNames.InputBucketize).ToList();
        CostPair? bucketize = bucket.Count == 0 ? null
            : FitPair($"{stack} input bucketize", bucket, o => new() { [CostTerms.Calls] = 1, [CostTerms.Lookups] = S(o, "lookups") },
                [CostTerms.Calls, CostTerms.Lookups], [CostTerms.Calls], residuals);
        CostPair? Framework(string op, string countKey, string sizeKey, string sizeTerm)
        {
            var pts = mine.Where(o => o.Op == op).ToList();
            if (pts.Count == 0) pts = all.Where(o => o.Op == op).ToList();
            return pts.Count == 0 ? null : FitPair($"{stack} {op.Replace('_', ' ')}", pts,
                o => new() { [CostTerms.Calls] = 1, [CostTerms.Tensors] = S(o, countKey), [sizeTerm] = S(o, sizeKey) },
                [CostTerms.Calls, CostTerms.Tensors, sizeTerm], [CostTerms.Calls, CostTerms.Tensors], residuals);
        }
        return new OperatorModels(stack, SoftwareStacks.FormOf(stack).Name(), forward, backward, dense, slices, issue, floor, stream, points,
            shapes.Count > 0 ? shapes : null, bucketize, backwardCall,
            Framework(OperatorNames.GradientPack, "tensors", "params", CostTerms.Parameters),
            Framework(OperatorNames.InputPack, "tables", "lookups", CostTerms.Lookups),
            CollectiveCalls(mine.Any(o => o.Op == OperatorNames.CollectiveCall) ? mine : all));
    }

    /// <summary>Features of an embedding microbenchmark in the terms of <see cref="Cost.ShardLoad"/>.</summary>
    private static Dictionary<string, double> ShardFeatures(OperatorResult o)
    {
        double rows = S(o, "rows"), dim = S(o, "dim"), batch = S(o, "batch"), pooling = S(o, "pooling");
        var bytes = o.Dtype is "fp16" or "bf16" ? 2 : 4;
        var lookups = batch * pooling;
        var unique = o.Shape.TryGetValue("unique_rows", out var u) && u > 0 ? u : rows * -double.ExpM1(-lookups / rows);
        var state = o.Optimizer == "rowwise_adagrad" ? 4 : 0;
        return new()
        {
            [CostTerms.Calls] = 1, [CostTerms.Lookups] = lookups, [CostTerms.LookupBytes] = lookups * dim * bytes,
            [CostTerms.PooledBytes] = batch * dim * 4, [CostTerms.UniqueRowBytes] = unique * (dim * bytes + state),
        };
    }

    /// <summary>The host's cost of one collective call, per collective (the median over sizes: it does not grow with them).</summary>
    private static IReadOnlyDictionary<string, LinearCost>? CollectiveCalls(List<OperatorResult> ops)
    {
        var calls = ops.Where(o => o.Op == OperatorNames.CollectiveCall).ToList();
        if (calls.Count == 0) return null;
        return calls.GroupBy(o => S(o, "all_to_all") > 0 ? Nccl.CollectiveOps.AllToAllName : Nccl.CollectiveOps.AllReduceName)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => LinearCost.Of((CostTerms.Calls, Statistics.Median(g.Select(o => o.HostSeconds).ToList()))));
    }

    /// <summary>Operators priced by a shape grid, and the shape keys that are its (m, k, n).</summary>
    private static readonly (string Op, string[] Keys)[] ShapeOps =
    [
        (OperatorNames.LinearForward, ["batch", "in", "out"]), (OperatorNames.LinearBackward, ["batch", "in", "out"]),
        (OperatorNames.InteractionForward, ["batch", "features", "dim"]), (OperatorNames.InteractionBackward, ["batch", "features", "dim"]),
    ];

    /// <summary>
    /// Operators that loop on the host over small tensors (a step per parameter tensor, a piece per table): their events
    /// span the host's issue gaps, so the GPU's own work is what the events saw beyond the issue time.
    /// </summary>
    private static readonly HashSet<string> HostLoops = [OperatorNames.DenseOptimizer, OperatorNames.GradientPack, OperatorNames.InputPack];

    /// <summary>Operators whose code can make the host wait for the device.</summary>
    private static readonly HashSet<string> MaySynchronise = [OperatorNames.EmbeddingBackward, OperatorNames.SparseOptimizer, OperatorNames.InputBucketize];

    /// <summary>Calls that wait for the device: their host time is most of their wall time on an idle GPU.</summary>
    public const double SynchronisingHostShare = 0.85;

    private static double S(OperatorResult o, string key) => o.Shape.TryGetValue(key, out var v) ? v : 0;

    private static CostPair FitPair(string name, List<OperatorResult> pts, Func<OperatorResult, Dictionary<string, double>> features,
        string[] deviceTerms, string[] hostTerms, List<Residuals> residuals)
    {
        var x = pts.Select(features).ToList();
        // A call that waits for the device is priced by its wall time, and the host does not run ahead of it. Only
        // calls whose code can wait (a sparse coalesce, a host read of sizes) are asked; the data says whether they do.
        var walls = pts.Where(o => o.WallSeconds is > 0).ToList();
        var sync = MaySynchronise.Contains(pts[0].Op) && walls.Count > 0
            && Statistics.Median(walls.Select(o => o.HostSeconds / o.WallSeconds!.Value).ToList()) >= SynchronisingHostShare;
        var y = pts.Select(o => sync && o.WallSeconds is > 0 ? o.WallSeconds.Value
            : HostLoops.Contains(o.Op) && o.WallSeconds is > 0 ? Math.Max(o.DeviceSeconds - o.HostSeconds, 0.05 * o.DeviceSeconds)
            : o.DeviceSeconds).ToList();
        var device = NonNegative(x, y, deviceTerms);
        residuals.Add(Residual(name + (sync ? " (wall, synchronising)" : " (device)"), device, x, y));
        var withHost = pts.Select((o, i) => (o, i)).Where(t => t.o.HostSeconds > 0).ToList();
        var host = withHost.Count == 0 || sync ? LinearCost.Zero
            : NonNegative(withHost.Select(t => x[t.i]).ToList(), withHost.Select(t => t.o.HostSeconds).ToList(), hostTerms);
        return new CostPair(device, host, sync);
    }

    private static Residuals Residual(string name, LinearCost c, List<Dictionary<string, double>> x, List<double> y)
    {
        var errs = y.Select((v, i) => Math.Abs(Statistics.RelativeError(c.Seconds(x[i]), v))).ToList();
        return new Residuals(name, errs.Count, errs.Count == 0 ? 0 : errs.Average(), errs.DefaultIfEmpty(0).Max());
    }

    /// <summary>
    /// min Σ((ŷ − y)/y)² over non-negative coefficients: every subset of the terms is solved by least squares (MathNet)
    /// and the best one whose coefficients are all non-negative wins. Five terms make 31 small solves.
    /// </summary>
    public static LinearCost NonNegative(IReadOnlyList<Dictionary<string, double>> x, IReadOnlyList<double> y, IReadOnlyList<string> terms)
    {
        if (y.Count == 0) return LinearCost.Zero;
        LinearCost? best = null;
        var bestErr = double.PositiveInfinity;
        for (var mask = 1; mask < 1 << terms.Count; mask++)
        {
            var used = terms.Where((_, j) => (mask & (1 << j)) != 0).ToArray();
            if (used.Length > y.Count) continue;
            var a = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(y.Count, used.Length,
                (i, j) => (x[i].TryGetValue(used[j], out var v) ? v : 0) / y[i]);
            var b = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.Dense(y.Count, 1.0);
            double[] coef;
            try { coef = a.QR().Solve(b).ToArray(); }
            catch (Exception) { continue; }
            if (coef.Any(c => !double.IsFinite(c) || c < 0)) continue;
            var err = 0.0;
            for (var i = 0; i < y.Count; i++)
            {
                var pred = 0.0;
                for (var j = 0; j < used.Length; j++) pred += coef[j] * (x[i].TryGetValue(used[j], out var v) ? v : 0);
                err += Math.Pow((pred - y[i]) / y[i], 2);
            }
            if (err < bestErr * (1 - 1e-9)) { bestErr = err; best = new LinearCost(used.Select((t, j) => (t, coef[j])).ToDictionary(p => p.t, p => p.Item2)); }
        }
        return best ?? LinearCost.Of((terms[0], y.Average() / Math.Max(x.Average(f => f.TryGetValue(terms[0], out var v) ? v : 0), 1e-300)));
    }
}
