namespace Sim.Cost.Operators;

/// <summary>Device seconds (the kernels) and host seconds (issuing them) of one operator call, each a <see cref="LinearCost"/>.</summary>
public sealed record CostPair(LinearCost Device, LinearCost Host)
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
    IReadOnlyList<GemmPoint> Gemm)
{
    public SoftwareStack StackForm => SoftwareStacks.Words.TryGetValue(Form, out var s) ? s : SoftwareStack.Eager;
}
