using Sim.Hardware;
using Sim.Workload;
using Sim.Workload.Ops;

namespace Sim.Cost.Operators;

/// <summary>
/// One operator call in a step's order: device seconds, host seconds to issue it, and whether the host waits for the
/// device at its end (a synchronising call's <see cref="Device"/> is its whole wall time).
/// </summary>
internal readonly record struct StepOp(double Device, double Host, bool Sync = false)
{
    public static StepOp Of(CostPair c, in ShardLoad s) => new(c.Device.Shard(s), c.Host.Shard(s), c.Synchronises);

    /// <summary>Two calls as one: their device and host seconds add; it waits for the device if either does.</summary>
    public static StepOp operator +(StepOp a, StepOp b) => new(a.Device + b.Device, a.Host + b.Host, a.Sync || b.Sync);
}

/// <summary>
/// Prices operators for the iteration graph: with a profile's <see cref="OperatorModels"/> (fitted per card and stack on
/// microbenchmarks) by their fitted forms, device and host apart; without one by the built-in roofline of
/// <see cref="ComputeCost"/> (no host term). The one place an operator's cost is computed, for both modes.
/// </summary>
internal sealed class OperatorCosts(GpuSpec gpu, CostParameters p)
{
    private readonly OperatorModels? _m = p.Operators;
    private readonly GemmGrid? _gemm = p.Operators is { Gemm.Count: > 0 } o ? new GemmGrid(o.Gemm) : null;
    private readonly Dictionary<string, GemmGrid> _shapeGrids = [];

    public bool Fitted => _m is not null;
    public double BackwardCallSeconds => _m?.BackwardCallSeconds ?? 0;
    public CostParameters Parameters => p;

    /// <summary>One shard's forward lookup and pooling (HBM rows).</summary>
    public StepOp EmbeddingForward(in ShardLoad s) => _m is null
        ? new(ComputeCost.EmbeddingSeconds(gpu, p, s.LookupBytes + s.PooledBytes, 1), 0)
        : StepOp.Of(_m.EmbeddingForward, s);

    /// <summary>
    /// One shard's backward with its optimizer step. Data-parallel replicas get a dense gradient instead (zeroed, then
    /// scattered into: priced as a stream over the table plus a gather-sized scatter) from a backward() call of their
    /// own (one autograd-engine start each); their optimizer runs with the dense one.
    /// </summary>
    public StepOp EmbeddingBackward(in ShardLoad s, Optimizer o)
    {
        if (s.DataParallel) return Stream(s.Rows * s.Columns * 4) + EmbeddingForward(s) + new StepOp(0, BackwardCallSeconds);
        if (BackwardFit(o) is not { } c)
            return new(ComputeCost.EmbeddingBackwardSeconds(gpu, p, s.PooledBytes + 2 * s.LookupBytes, 1), 0);
        return StepOp.Of(c, s);
    }

    /// <summary>The fitted backward of an optimizer, else of another optimizer the stack measured, else none.</summary>
    private CostPair? BackwardFit(Optimizer o) => _m is null || _m.EmbeddingBackward.Count == 0 ? null
        : _m.EmbeddingBackward.TryGetValue(o.Name(), out var fit) ? fit : _m.EmbeddingBackward.Values.First();

    /// <summary>
    /// The optimizer step over dense (replicated) parameters held in <paramref name="tensors"/> tensors (each its own step
    /// on an eager stack): Adagrad for a row-wise Adagrad workload, SGD otherwise.
    /// </summary>
    public StepOp DenseOptimizer(double parameters, double tensors, Optimizer o)
    {
        if (parameters <= 0) return default;
        if (_m is null || _m.DenseOptimizer.Count == 0) return new(DenseWork.OptimizerSeconds(gpu, p, o, parameters), 0);
        var c = _m.DenseOptimizer.TryGetValue(o == Optimizer.Sgd ? "sgd" : "adagrad", out var fit) ? fit : _m.DenseOptimizer.Values.First();
        return Counted(c, tensors, CostTerms.Parameters, parameters);
    }

    /// <summary>Forward and backward of cutting received embeddings into slices and assembling them (autograd through views).</summary>
    public StepOp SliceAssembly(double slices, double bytes) =>
        _m is null || slices <= 0 ? default : new(_m.SliceAssembly.Device.SlicesOf(slices, bytes), _m.SliceAssembly.Host.SlicesOf(slices, bytes));

    /// <summary>One dense kernel: a GEMM from the measured grid where its shape and dtype were measured, else by roofline.</summary>
    public StepOp Kernel(in KernelWork k, DType dt)
    {
        if (_m is null) return new(DenseWork.KernelSeconds(gpu, p, dt, k), 0);
        var issue = IssueSeconds(k.Launches);
        if (k.Flops > 0 && k.M > 0 && _gemm?.Seconds(k.M, k.K, k.N, dt.Name()) is { } g)
            return new(g * k.Launches, issue);
        if (k.Flops > 0)
            return new(Math.Max(ComputeCost.GemmSeconds(gpu, p with { KernelOverheadSeconds = 0 }, dt, k.Flops, k.Bytes), _m.KernelFloorSeconds) * k.Launches, issue);
        return new(Math.Max(k.Bytes / _m.StreamBytesPerSecond, _m.KernelFloorSeconds) * k.Launches, issue);
    }

    /// <summary>A streaming kernel over <paramref name="bytes"/> (read + write).</summary>
    public StepOp Stream(double bytes) => bytes <= 0 ? default
        : _m is null ? new(ComputeCost.StreamSeconds(gpu, p, bytes), 0)
        : new(Math.Max(bytes / _m.StreamBytesPerSecond, _m.KernelFloorSeconds), _m.KernelIssueSeconds);

    /// <summary>Small kernels that cost the host their issue time (nothing without a fitted stack).</summary>
    public StepOp Issue(double kernels) => new(0, IssueSeconds(kernels));

    private double IssueSeconds(double kernels) => (_m?.KernelIssueSeconds ?? 0) * kernels;

    /// <summary>The host's cost of issuing one collective call (nothing without a fitted stack: the link model prices collectives).</summary>
    public StepOp CollectiveCall(string collective) =>
        _m?.CollectiveCall is { } c && c.TryGetValue(collective, out var cost) ? new StepOp(0, cost.Step(0)) : default;

    /// <summary>Flattening <paramref name="tensors"/> gradients of <paramref name="parameters"/> in all before the all-reduce.</summary>
    public StepOp GradientPack(double tensors, double parameters) => _m?.GradientPack is { } c
        ? Counted(c, tensors, CostTerms.Parameters, parameters) : new StepOp(Stream(2 * parameters * 4).Device, IssueSeconds(tensors));

    /// <summary>The table-wise input distribution's packing and unpacking of <paramref name="tables"/> tables' indices.</summary>
    public StepOp InputPack(double tables, double lookups) => _m?.InputPack is { } c
        ? Counted(c, tables, CostTerms.Lookups, lookups) : Issue(2 * tables);

    /// <summary>Bucketising one row-split table's lookups by shard (and reading the sizes on the host).</summary>
    public StepOp Bucketize(double lookups) => _m?.InputBucketize is { } c ? Counted(c, 0, CostTerms.Lookups, lookups) : Issue(12);

    /// <summary>An operator from a measured shape grid (linear layers, the interaction), or null when the profile has none.</summary>
    public StepOp? Shape(string op, double m, double k, double n)
    {
        if (_m?.Shapes is null || !_m.Shapes.TryGetValue(op, out var g)) return null;
        if (!_shapeGrids.TryGetValue(op, out var grid)) _shapeGrids[op] = grid = new GemmGrid(g.Device);
        return grid.Seconds(m, k, n, "fp32") is { } s ? new StepOp(s, g.Host.Step(0)) : null;
    }

    /// <summary>A call priced per call, per item it loops over (<see cref="CostTerms.Tensors"/>) and per unit of its size.</summary>
    private static StepOp Counted(CostPair c, double count, string sizeTerm, double size)
    {
        var x = new Dictionary<string, double> { [CostTerms.Calls] = 1, [CostTerms.Tensors] = count, [sizeTerm] = size };
        return new(c.Device.Seconds(x), c.Host.Seconds(x), c.Synchronises);
    }
}
