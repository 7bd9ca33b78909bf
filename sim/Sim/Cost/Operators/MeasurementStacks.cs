namespace Sim.Cost.Operators;

/// <summary>Names of the software stacks a measurement can come from.</summary>
public static class MeasurementStacks
{
    /// <summary>The harness (TorchSharp) doing what PyTorch eager does: EmbeddingBag with sparse gradients, then a sparse optimizer step.</summary>
    public const string HarnessEager = "harness-eager";
    /// <summary>The harness's fused embedding backward: gradient, unique rows and optimizer in its own kernels.</summary>
    public const string HarnessFused = "harness-fused";
    /// <summary>Plain PyTorch eager with torch.distributed (validation/reference).</summary>
    public const string PytorchEager = "pytorch-eager";
    public static readonly IReadOnlyList<string> All = [HarnessEager, HarnessFused, PytorchEager];
}
