namespace Sim.Cost.Operators;

/// <summary>
/// Device seconds (the kernels) and host seconds (issuing them) of one operator call, each a <see cref="LinearCost"/>.
/// <see cref="Synchronises"/>: the call waits for the device (a sparse coalesce, a device-to-host read of sizes); its
/// <see cref="Device"/> is then its whole wall time, and the host cannot run ahead of it.
/// </summary>
public sealed record CostPair(LinearCost Device, LinearCost Host, bool Synchronises = false)
{
    public static readonly CostPair Zero = new(LinearCost.Zero, LinearCost.Zero);
}

/// <summary>
/// The operator cost models of one software stack on one card, fitted on microbenchmarks of each operator alone
/// (`harness micro operators`, `validation/reference/dlrm_reference.py micro`): the form is fixed by the stack, the
/// coefficients by the card. Shared by the analytical and event paths through <see cref="OperatorCosts"/>.
/// </summary>
/// <param name="MeasuredStack">The stack that was measured (pytorch-eager, harness-eager, harness-fused).</param>
/// <param name="Form">"eager" or "fused" (<see cref="SoftwareStack"/>).</param>
/// <param name="EmbeddingForward">Per shard: calls, lookups, lookup_bytes, pooled_bytes.</param>
/// <param name="EmbeddingBackward">Per optimizer (sgd, rowwise_adagrad), per shard, the backward with its optimizer step:
/// calls, lookups, lookup_bytes, pooled_bytes, unique_row_bytes.</param>
/// <param name="DenseOptimizer">Per optimizer (sgd, adagrad): calls, params.</param>
/// <param name="SliceAssembly">Per rank and iteration, forward and backward of cutting the received embeddings into slices and assembling them: calls, slices, bytes.</param>
/// <param name="KernelIssueSeconds">Host seconds to issue one small kernel on this stack (Python eager and C# differ).</param>
/// <param name="KernelFloorSeconds">Device seconds of the smallest kernel (launch and ramp).</param>
/// <param name="StreamBytesPerSecond">Achieved bytes per second (read + write) of a large elementwise kernel.</param>
/// <param name="Gemm">Measured GEMM shapes and their device seconds.</param>
/// <param name="Shapes">Operators priced by shape from a measured grid (linear layers and the dot interaction, forward
/// and backward), by operator name (<see cref="Cost.Operators.OperatorNames"/>): (batch, in, out) or (batch, features, dim).</param>
/// <param name="CollectiveCall">Host seconds to issue one collective call, by collective (all_reduce, all_to_all).</param>
/// <param name="GradientPack">Flattening the gradients into one buffer before the all-reduce: calls, tensors, params.</param>
/// <param name="InputPack">The table-wise input distribution around its all-to-all: calls, tensors (tables), lookups.</param>
/// <param name="BackwardCallSeconds">The fixed cost of one autograd backward() call (engine start), paid once per step.</param>
/// <param name="InputBucketize">Per row-split table: bucketising its indices by shard and reading the sizes on the host.</param>
public sealed record OperatorModels(
    string MeasuredStack,
    string Form,
    CostPair EmbeddingForward,
    IReadOnlyDictionary<string, CostPair> EmbeddingBackward,
    IReadOnlyDictionary<string, CostPair> DenseOptimizer,
    CostPair SliceAssembly,
    double KernelIssueSeconds,
    double KernelFloorSeconds,
    double StreamBytesPerSecond,
    IReadOnlyList<GemmPoint> Gemm,
    IReadOnlyDictionary<string, ShapeGrid>? Shapes = null,
    CostPair? InputBucketize = null,
    double BackwardCallSeconds = 0,
    CostPair? GradientPack = null,
    CostPair? InputPack = null,
    IReadOnlyDictionary<string, LinearCost>? CollectiveCall = null)
{
    public SoftwareStack StackForm => SoftwareStacks.Words.TryGetValue(Form, out var s) ? s : SoftwareStack.Eager;

    /// <summary>
    /// These models moved to another card: every per-byte term (rows, pooled vectors, unique rows, optimizer state,
    /// streamed bytes) scales by the cards' time per byte (<paramref name="perByte"/> = measured HBM bandwidth over the
    /// target's), GEMMs by the time per FLOP (<paramref name="perFlop"/>), and a measured MLP layer splits into its GEMMs
    /// (by FLOP) and the rest (by byte). Per-call, per-lookup and host terms stay: the same software issues the same
    /// kernels. The interaction and bucketing grids scale by byte (batched small products and index work are memory-bound).
    /// </summary>
    public OperatorModels TransferredTo(double perByte, double perFlop)
    {
        CostPair Pair(CostPair c) => c with { Device = Scaled(c.Device, perByte) };
        var gemm = new GemmGrid(Gemm);
        ShapeGrid Shape(string op, ShapeGrid g) => g with
        {
            Device = g.Device.Select(p =>
            {
                var gemmSeconds = op switch
                {
                    Cost.Operators.OperatorNames.LinearForward => gemm.Seconds(p.M, p.K, p.N, p.Dtype) ?? 0,
                    Cost.Operators.OperatorNames.LinearBackward => (gemm.Seconds(p.M, p.N, p.K, p.Dtype) ?? 0) + (gemm.Seconds(p.K, p.M, p.N, p.Dtype) ?? 0),
                    _ => 0,
                };
                gemmSeconds = Math.Min(gemmSeconds, p.Seconds);
                return p with { Seconds = gemmSeconds * perFlop + (p.Seconds - gemmSeconds) * perByte };
            }).ToList(),
        };
        return this with
        {
            EmbeddingForward = Pair(EmbeddingForward),
            EmbeddingBackward = EmbeddingBackward.ToDictionary(kv => kv.Key, kv => Pair(kv.Value)),
            DenseOptimizer = DenseOptimizer.ToDictionary(kv => kv.Key, kv => Pair(kv.Value)),
            SliceAssembly = Pair(SliceAssembly),
            StreamBytesPerSecond = StreamBytesPerSecond / perByte,
            Gemm = Gemm.Select(p => p with { Seconds = p.Seconds * perFlop }).ToList(),
            Shapes = Shapes?.ToDictionary(kv => kv.Key, kv => Shape(kv.Key, kv.Value)),
            InputBucketize = InputBucketize is { } b ? Pair(b) : null,
            GradientPack = GradientPack is { } gp ? Pair(gp) : null,
            InputPack = InputPack is { } ip ? Pair(ip) : null,
        };
    }

    /// <summary>A cost with its per-byte and per-parameter terms scaled.</summary>
    private static LinearCost Scaled(LinearCost c, double perByte) => new(c.Terms.ToDictionary(kv => kv.Key,
        kv => kv.Key is CostTerms.LookupBytes or CostTerms.PooledBytes or CostTerms.UniqueRowBytes or CostTerms.Parameters or CostTerms.Bytes
            ? kv.Value * perByte : kv.Value));
}

/// <summary>An operator measured over a grid of shapes: device seconds per shape (interpolated as GEMMs are) and its host cost.</summary>
public sealed record ShapeGrid(IReadOnlyList<GemmPoint> Device, LinearCost Host);
