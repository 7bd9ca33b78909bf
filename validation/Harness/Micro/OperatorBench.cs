using System.Diagnostics;
using System.Globalization;
using Sim.Harness.Backends;
using Sim.Harness.Training;
using Sim.Workload;
using TorchSharp;
using static TorchSharp.torch;
using Sim.Cost.Operators;
using Sim.Measurements;

namespace Sim.Harness.Micro;

/// <summary>
/// The operator grid (<see cref="OperatorNames"/>) for each embedding stack, one GPU, fp32: every operator timed as
/// the stack runs it in a training step. Per case: device seconds (CUDA events around the call; a stopwatch on the
/// CPU), host seconds (the call returning, no synchronisation, in a separate loop) and wall seconds (issue plus
/// synchronisation), each the median over repetitions after warm-up, the repetitions alternating between two input
/// sets of random (never zero) data. Work that only sets a call up (the eager forward whose graph the backward needs,
/// clearing a gradient) runs untimed before it.
/// </summary>
public static class OperatorBench
{
    public sealed record Grid(
        long[] ForwardRows, long[] BackwardRows, int[] Dims, int[] Pooling, long[] Batches,
        long[] DenseParams, int[] Slices, long[] SliceBatches, int[] SliceDims, long[] Elements);

    /// <summary>The grid for an H200 (a few minutes).</summary>
    public static readonly Grid Full = new(
        [100_000, 1_000_000, 4_000_000], [100_000, 1_000_000], [32, 64, 128, 256], [1, 8, 32], [8192, 65536],
        [100_000, 1_000_000, 10_000_000, 50_000_000], [1, 4, 16, 64], [8192, 65536], [32, 64, 128], [1, 10_000, 1_000_000, 100_000_000]);

    /// <summary>A tiny grid (seconds): --quick and the CPU.</summary>
    public static readonly Grid Quick = new(
        [1000, 4000], [1000], [8, 16], [1, 4], [64, 256],
        [1000, 100_000], [1, 4], [64], [8], [1, 10_000]);

    private const double Lr = 0.01;
    private const string Dtype = "fp32";

    public static IReadOnlyList<OperatorResult> Run(IBackend backend, IReadOnlyList<EmbeddingStack> stacks, Grid g, MicroSettings s, TextWriter log,
        List<OperatorResult>? partial = null)
    {
        var results = partial ?? [];
        var device = backend.DeviceOf(0);
        backend.Synchronize(0);
        using var timer = backend.CreateTimer(0, 1);
        var t = new Timing(backend, timer, s);
        torch.manual_seed(12345);
        if (device.type == DeviceType.CUDA) torch.cuda.manual_seed_all(12345);

        void Add(string op, EmbeddingStack stack, string? optimizer, Dictionary<string, double> shape, (double Device, double Host, double Wall) m)
        {
            results.Add(new OperatorResult(op, stack.MeasurementName(), Dtype, optimizer, shape, m.Device, m.Host, m.Wall));
            var shapeText = string.Join(" ", shape.Select(kv => FormattableString.Invariant($"{kv.Key}={kv.Value:G}")));
            log.WriteLine(FormattableString.Invariant(
                $"operators {stack.MeasurementName()} {op}{(optimizer is null ? "" : " " + optimizer)} {shapeText}: device {m.Device * 1e6:F1} us, host {m.Host * 1e6:F1} us, wall {m.Wall * 1e6:F1} us"));
        }

        foreach (var stack in stacks)
        {
            Embedding(device, stack, g, t, Add);
            DenseOptimizer(device, stack, g, t, Add);
            SliceAssembly(device, stack, g, t, Add);
            Elementwise(device, stack, g, t, Add);
        }
        return results;
    }

    private delegate void Sink(string op, EmbeddingStack stack, string? optimizer, Dictionary<string, double> shape, (double Device, double Host, double Wall) m);

    private static Dictionary<string, double> EmbeddingShape(long rows, int dim, long batch, int pooling, double unique) => new()
    {
        ["rows"] = rows, ["dim"] = dim, ["batch"] = batch, ["pooling"] = pooling, ["unique_rows"] = unique,
    };

    private static void Embedding(Device device, EmbeddingStack stack, Grid g, Timing t, Sink add)
    {
        var eager = stack == EmbeddingStack.Eager;
        foreach (var rows in g.ForwardRows)
            foreach (var dim in g.Dims)
            {
                var optimizers = g.BackwardRows.Contains(rows) ? new[] { Optimizer.Sgd, Optimizer.RowWiseAdagrad } : [];
                // Forward on the SGD block; each optimizer gets a fresh table (and row-wise Adagrad its state).
                foreach (var opt in optimizers.Length > 0 ? optimizers : [Optimizer.Sgd])
                {
                    using var block = new TableBlock(torch.rand(rows, dim, dtype: ScalarType.Float32, device: device).mul_(0.01), opt, autograd: eager, sparse: eager);
                    foreach (var pooling in g.Pooling)
                        foreach (var batch in g.Batches)
                        {
                            using var scope = torch.NewDisposeScope();
                            var n = batch * pooling;
                            var idx = Enumerable.Range(0, 2).Select(_ => torch.randint(0, rows, [n], dtype: ScalarType.Int64, device: device)).ToArray();
                            var offsets = torch.arange(0L, n, pooling, dtype: ScalarType.Int64, device: device);
                            var grad = Enumerable.Range(0, 2).Select(_ => torch.randn(batch, dim, dtype: ScalarType.Float32, device: device).mul_(1e-3)).ToArray();
                            var unique = idx.Average(i => { using var u = torch.unique(i).output; return (double)u.shape[0]; });
                            var shape = EmbeddingShape(rows, dim, batch, pooling, unique);
                            if (opt == Optimizer.Sgd)
                                add(OperatorNames.EmbeddingForward, stack, null, shape, t.Measure(null, k =>
                                {
                                    if (eager) block.LookupWithGrad(idx[k], offsets);
                                    else block.Lookup(idx[k], offsets);
                                }));
                            if (optimizers.Length == 0) continue;
                            var optName = Optimizers.Name(opt);
                            if (!eager)
                            {
                                add(OperatorNames.EmbeddingBackward, stack, optName, shape, t.Measure(null,
                                    k => EmbeddingOps.BackwardAndUpdate(block, idx[k], offsets, grad[k], Lr, pooling)));
                                continue;
                            }
                            // Eager: the forward (with its graph) is set-up; timed are autograd.backward and the sparse optimizer step.
                            Tensor? output = null;
                            add(OperatorNames.EmbeddingBackward, stack, optName, shape, t.Measure(
                                k => output = block.LookupWithGrad(idx[k], offsets),
                                k =>
                                {
                                    torch.autograd.backward([output!], [grad[k]]);
                                    EagerOps.Step(block, Lr);
                                }));
                            // The optimizer step alone, on the uncoalesced sparse gradient autograd left.
                            add(OperatorNames.SparseOptimizer, stack, optName, shape, t.Measure(
                                k => torch.autograd.backward([block.LookupWithGrad(idx[k], offsets)], [grad[k]]),
                                _ => EagerOps.Step(block, Lr)));
                        }
                }
            }
    }

    private static void DenseOptimizer(Device device, EmbeddingStack stack, Grid g, Timing t, Sink add)
    {
        foreach (var count in g.DenseParams)
            foreach (var (name, adagrad) in new[] { ("sgd", false), ("adagrad", true) })
            {
                using var scope = torch.NewDisposeScope();
                var p = torch.randn(count, dtype: ScalarType.Float32, device: device);
                var grads = Enumerable.Range(0, 2).Select(_ => torch.randn(count, dtype: ScalarType.Float32, device: device).mul_(1e-3)).ToArray();
                var state = adagrad ? torch.rand(count, dtype: ScalarType.Float32, device: device).mul_(1e-3) : null;
                add(OperatorNames.DenseOptimizer, stack, name, new() { ["params"] = count }, t.Measure(null, k =>
                {
                    using var _ = torch.no_grad();
                    RankTrainer.DenseStep(p, grads[k], state, Lr);
                }));
            }
    }

    private static void SliceAssembly(Device device, EmbeddingStack stack, Grid g, Timing t, Sink add)
    {
        foreach (var slices in g.Slices)
            foreach (var batch in g.SliceBatches)
                foreach (var dim in g.SliceDims)
                {
                    using var scope = torch.NewDisposeScope();
                    var xs = Enumerable.Range(0, 2).Select(_ => torch.randn(batch, (long)slices * dim, dtype: ScalarType.Float32, device: device).requires_grad_(true)).ToArray();
                    var r = torch.randn(batch, slices, dim, dtype: ScalarType.Float32, device: device);
                    add(OperatorNames.SliceAssembly, stack, null, new() { ["slices"] = slices, ["batch"] = batch, ["dim"] = dim }, t.Measure(
                        k => xs[k].grad = null,
                        k =>
                        {
                            var x = xs[k];
                            var y = torch.stack(Enumerable.Range(0, slices).Select(i => x.narrow(1, (long)i * dim, dim)).ToArray(), 1);
                            y.mul(r).sum().backward();
                        }));
                }
    }

    private static void Elementwise(Device device, EmbeddingStack stack, Grid g, Timing t, Sink add)
    {
        foreach (var count in g.Elements)
        {
            using var scope = torch.NewDisposeScope();
            var xs = Enumerable.Range(0, 2).Select(_ => torch.rand(count, dtype: ScalarType.Float32, device: device).add_(1)).ToArray();
            add(OperatorNames.Elementwise, stack, null, new() { ["elements"] = count }, t.Measure(null, k =>
            {
                using var _ = torch.no_grad();
                xs[k].mul_(1.0001);
            }));
        }
    }

    /// <summary>Device, host and wall time of one call, medians over repetitions; input set k = repetition mod 2.</summary>
    private sealed class Timing(IBackend backend, IPhaseTimer timer, MicroSettings s)
    {
        /// <param name="prepare">Untimed set-up before each call (may be null).</param>
        public (double Device, double Host, double Wall) Measure(Action<int>? prepare, Action<int> op)
        {
            for (var i = 0; i < s.Warmup; i++) Once(prepare, op, i % 2, null);
            var reps = Math.Max(1, s.Repetitions);
            var device = new double[reps];
            var wall = new double[reps];
            var host = new double[reps];
            for (var r = 0; r < reps; r++)
                Once(prepare, op, r % 2, () =>
                {
                    timer.StartIteration();
                    timer.Begin(0);
                    op(r % 2);
                    timer.End(0);
                    var it = timer.FinishIteration();
                    device[r] = it.PhaseSeconds[0];
                    wall[r] = it.IterationSeconds;
                });
            for (var r = 0; r < reps; r++)
                Once(prepare, op, r % 2, () =>
                {
                    var t0 = Stopwatch.GetTimestamp();
                    op(r % 2);
                    host[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                    backend.Synchronize(0);
                });
            return (TimeStats.Of(device).Median, TimeStats.Of(host).Median, TimeStats.Of(wall).Median);
        }

        /// <summary>Set-up, synchronise, then the call (timed by <paramref name="timed"/>, or plainly), in a dispose scope that frees what they made.</summary>
        private void Once(Action<int>? prepare, Action<int> op, int k, Action? timed)
        {
            using var scope = torch.NewDisposeScope();
            prepare?.Invoke(k);
            backend.Synchronize(0);
            if (timed is null) op(k);
            else timed();
            backend.Synchronize(0);
        }
    }

    public static string Describe(Grid g) => string.Create(CultureInfo.InvariantCulture,
        $"rows {string.Join(",", g.ForwardRows)}, dims {string.Join(",", g.Dims)}, pooling {string.Join(",", g.Pooling)}, batches {string.Join(",", g.Batches)}");
}
