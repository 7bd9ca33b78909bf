using System.Globalization;
using Sim.Harness.Backends;
using Sim.Harness.Training;
using Sim.Workload;
using TorchSharp;
using static TorchSharp.torch;
using Sim.Measurements;

namespace Sim.Harness.Micro;

/// <summary>Warm-up and repetition counts of the microbenchmarks.</summary>
public sealed record MicroSettings(int Warmup, int Repetitions);

/// <summary>Times a device operation: batches of back-to-back calls between two timer marks, median over repetitions.</summary>
internal static class OpTiming
{
    /// <summary>Seconds per call of <paramref name="op"/>: the median over repetitions of a batch of calls sized to last about a millisecond.</summary>
    public static double Median(IBackend backend, int rank, IPhaseTimer timer, MicroSettings s, Action op)
    {
        for (var i = 0; i < s.Warmup; i++) op();
        var single = Batch(timer, op, 1);
        var inner = (int)Math.Clamp(Math.Ceiling(1e-3 / Math.Max(single, 1e-7)), 1, 100);
        var times = new double[Math.Max(1, s.Repetitions)];
        for (var r = 0; r < times.Length; r++) times[r] = Batch(timer, op, inner);
        return TimeStats.Of(times).Median;
    }

    public static double Batch(IPhaseTimer timer, Action op, int inner)
    {
        timer.StartIteration();
        timer.Begin(0);
        for (var i = 0; i < inner; i++) op();
        timer.End(0);
        return timer.FinishIteration().PhaseSeconds[0] / inner;
    }
}

/// <summary>GEMM throughput for the MLP shapes of workloads (forward and both backward products at the local batch) and square sizes.</summary>
public static class GemmBench
{
    public sealed record Shape(string Label, long M, long K, long N);

    public static IReadOnlyList<Shape> WorkloadShapes(IEnumerable<DlrmWorkload> workloads, IEnumerable<int> worlds)
    {
        var shapes = new List<Shape>();
        var seen = new HashSet<(long, long, long)>();
        foreach (var w in workloads)
            foreach (var world in worlds.Distinct().Order())
            {
                if (w.GlobalBatchSize % world != 0) continue;
                var b = w.GlobalBatchSize / world;
                void Add(string part, int i, DenseLayer l)
                {
                    foreach (var (pass, m, k, n) in new[] { ("fwd", b, (long)l.In, (long)l.Out), ("bwd_input", b, l.Out, l.In), ("bwd_weight", (long)l.Out, b, (long)l.In) })
                        if (seen.Add((m, k, n)))
                            shapes.Add(new Shape($"{w.Name} {part}[{i}] {pass} b={b}", m, k, n));
                }
                for (var i = 0; i < w.BottomLayers.Count; i++) Add("bottom", i, w.BottomLayers[i]);
                for (var i = 0; i < w.TopLayers.Count; i++) Add("top", i, w.TopLayers[i]);
            }
        return shapes;
    }

    public static IReadOnlyList<GemmResult> Run(IBackend backend, IReadOnlyList<Shape> shapes, IReadOnlyList<string> dtypes, MicroSettings s, TextWriter log)
    {
        var results = new List<GemmResult>();
        var device = backend.DeviceOf(0);
        backend.Synchronize(0);
        using var timer = backend.CreateTimer(0, 1);
        foreach (var dtype in dtypes)
        {
            if (backend.Name == "cuda") torch.backends.cuda.matmul.allow_tf32 = dtype == "tf32";
            var st = dtype == "bf16" ? ScalarType.BFloat16 : dtype == "fp16" ? ScalarType.Float16 : ScalarType.Float32;
            foreach (var sh in shapes)
            {
                using var scope = torch.NewDisposeScope();
                var a = torch.randn(sh.M, sh.K, dtype: st, device: device);
                var b = torch.randn(sh.K, sh.N, dtype: st, device: device);
                using var _ = torch.no_grad();
                var sec = OpTiming.Median(backend, 0, timer, s, () => { using var c = a.matmul(b); });
                var flops = GemmResult.Flops(sh.M, sh.K, sh.N);
                results.Add(new GemmResult(sh.Label, sh.M, sh.K, sh.N, dtype, sec, flops / sec));
                log.WriteLine(FormattableString.Invariant($"gemm {dtype} {sh.M}x{sh.K}x{sh.N}: {sec * 1e6:F1} us, {flops / sec / 1e12:F2} TFLOP/s ({sh.Label})"));
            }
        }
        if (backend.Name == "cuda") torch.backends.cuda.matmul.allow_tf32 = false;
        return results;
    }
}

/// <summary>EmbeddingBag (sum) forward and the fused backward + row-wise Adagrad update, over rows x dim x pooling x batch.</summary>
public static class EmbeddingBench
{
    public sealed record Case(long Rows, int Dim, int Pooling, long Batch);

    public static IReadOnlyList<Case> Sweep(long[] rows, int[] dims, int[] pooling, long[] batches) =>
        (from r in rows from d in dims from p in pooling from b in batches select new Case(r, d, p, b)).ToList();

    public static IReadOnlyList<EmbeddingResult> Run(IBackend backend, IReadOnlyList<Case> cases, MicroSettings s, TextWriter log)
    {
        var results = new List<EmbeddingResult>();
        var device = backend.DeviceOf(0);
        backend.Synchronize(0);
        using var timer = backend.CreateTimer(0, 1);
        // Unseeded device draws (seeded once): tables too large to draw on the host.
        torch.manual_seed(12345);
        if (device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(12345);
        foreach (var group in cases.GroupBy(c => (c.Rows, c.Dim)))
        {
            using var block = new TableBlock(torch.rand(group.Key.Rows, group.Key.Dim, dtype: ScalarType.Float32, device: device).mul_(0.01), Optimizer.RowWiseAdagrad);
            foreach (var c in group)
            {
                using var scope = torch.NewDisposeScope();
                var idx = torch.randint(0, c.Rows, [c.Batch * c.Pooling], dtype: ScalarType.Int64, device: device);
                var offsets = torch.arange(0L, c.Batch * c.Pooling, c.Pooling, dtype: ScalarType.Int64, device: device);
                var grad = torch.randn(c.Batch, c.Dim, dtype: ScalarType.Float32, device: device).mul_(1e-3);
                var fwd = OpTiming.Median(backend, 0, timer, s, () => { using var y = block.Lookup(idx, offsets); });
                var bwd = OpTiming.Median(backend, 0, timer, s, () => EmbeddingOps.BackwardAndUpdate(block, idx, offsets, grad, 0.01));
                results.Add(new EmbeddingResult(c.Rows, c.Dim, c.Pooling, c.Batch, "fp32", Optimizers.Name(Optimizer.RowWiseAdagrad), fwd, bwd));
                log.WriteLine(FormattableString.Invariant($"embedding {c.Rows}x{c.Dim} pooling {c.Pooling} batch {c.Batch}: fwd {fwd * 1e6:F1} us, bwd+update {bwd * 1e6:F1} us"));
            }
        }
        return results;
    }
}

/// <summary>All-reduce, reduce-scatter, all-gather and all-to-all at each size on each world size, nccl-tests style.</summary>
public static class CollectiveBench
{
    /// <summary>Calls per timed batch: the same on every rank (collectives must match), fewer for big messages.</summary>
    private static int Inner(long bytes) => bytes <= 1 << 20 ? 20 : bytes <= 64 << 20 ? 5 : 1;

    /// <summary>1 KiB to 1 GiB by powers of 4.</summary>
    public static long[] DefaultSizes(long max = 1L << 30)
    {
        var sizes = new List<long>();
        for (var b = 1024L; b <= max; b *= 4) sizes.Add(b);
        return [.. sizes];
    }

    public static IReadOnlyList<CollectiveResult> Run(IBackend backend, IReadOnlyList<int> worlds, IReadOnlyList<long> sizes, MicroSettings s, TextWriter log,
        List<CollectiveResult>? partial = null)
    {
        var results = partial ?? [];
        foreach (var n in worlds)
        {
            // [op][size][rep][rank]
            var ops = CollectiveBandwidth.Ops;
            var reps = Math.Max(1, s.Repetitions);
            var t = new double[ops.Count, sizes.Count, reps, n];
            var bytesUsed = new long[sizes.Count];
            backend.RunRanks(n, ctx =>
            {
                using var timer = ctx.CreateTimer(1);
                for (var si = 0; si < sizes.Count; si++)
                {
                    // Elements: a multiple of the world size, so every rank's block is whole.
                    var count = Math.Max(n, sizes[si] / 4 / n * n);
                    bytesUsed[si] = count * 4;
                    for (var oi = 0; oi < ops.Count; oi++)
                    {
                        using var scope = torch.NewDisposeScope();
                        var op = Make(ops[oi], ctx, count);
                        var inner = Inner(count * 4);
                        for (var w = 0; w < s.Warmup; w++) op();
                        for (var r = 0; r < reps; r++)
                        {
                            ctx.Comm.Barrier();
                            t[oi, si, r, ctx.Rank] = OpTiming.Batch(timer, op, inner);
                        }
                    }
                }
            });
            for (var oi = 0; oi < ops.Count; oi++)
                for (var si = 0; si < sizes.Count; si++)
                {
                    var perRep = Enumerable.Range(0, reps).Select(r => Enumerable.Range(0, n).Max(k => t[oi, si, r, k])).ToArray();
                    var res = CollectiveResult.Create(ops[oi], n, bytesUsed[si], TimeStats.Of(perRep).Median);
                    results.Add(res);
                    log.WriteLine(string.Format(CultureInfo.InvariantCulture, "{0} n={1} {2} B: {3:F1} us, algbw {4:F2} GB/s, busbw {5:F2} GB/s",
                        res.Op, n, res.Bytes, res.Seconds * 1e6, res.AlgbwGbPerSecond, res.BusbwGbPerSecond));
                }
        }
        return results;
    }

    private static Action Make(string op, RankContext ctx, long count)
    {
        var dev = ctx.Device;
        var n = ctx.World;
        var f32 = ScalarType.Float32;
        switch (op)
        {
            case CollectiveBandwidth.AllReduce:
            {
                var buf = torch.zeros(count, dtype: f32, device: dev);
                return () => ctx.Comm.AllReduceSum(buf);
            }
            case CollectiveBandwidth.ReduceScatter:
            {
                var send = torch.ones(count, dtype: f32, device: dev);
                var recv = torch.empty(count / n, dtype: f32, device: dev);
                return () => ctx.Comm.ReduceScatterSum(send, recv);
            }
            case CollectiveBandwidth.AllGather:
            {
                var send = torch.ones(count / n, dtype: f32, device: dev);
                var recv = torch.empty(count, dtype: f32, device: dev);
                return () => ctx.Comm.AllGather(send, recv);
            }
            default:
            {
                var send = torch.ones(count, dtype: f32, device: dev);
                var recv = torch.empty(count, dtype: f32, device: dev);
                var counts = Enumerable.Repeat(count / n, n).ToArray();
                return () => ctx.Comm.AllToAllV(send, counts, recv, counts);
            }
        }
    }
}
