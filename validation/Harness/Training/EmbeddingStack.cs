using Sim.Config;
using Sim.Cost.Operators;

namespace Sim.Harness.Training;

/// <summary>
/// How the embedding tables are trained. <see cref="Eager"/> does what plain PyTorch eager does: EmbeddingBag with
/// sparse gradients, autograd to an uncoalesced sparse weight gradient, then the optimizer on that gradient (what
/// torch.optim.SGD does for SGD; coalesce and index_add_ for row-wise Adagrad). <see cref="Fused"/> is the harness's
/// own backward: lookup without autograd, then gradient and optimizer step in one pass over the looked-up rows
/// (<see cref="EmbeddingOps.BackwardAndUpdate"/>). Both give the same numbers (up to the order of sums).
/// </summary>
public enum EmbeddingStack { Eager, Fused }

public static class EmbeddingStacks
{
    public static readonly IReadOnlyList<string> Names = ["eager", "fused"];

    public static EmbeddingStack Parse(string text, string option) => text switch
    {
        "eager" => EmbeddingStack.Eager,
        "fused" => EmbeddingStack.Fused,
        _ => throw new SimInputException(option, "", $"'{text}' is not a stack; expected eager or fused"),
    };

    public static string Name(this EmbeddingStack s) => s == EmbeddingStack.Eager ? "eager" : "fused";

    /// <summary>The name recorded in provenance.stack and in operator results ("harness-eager" / "harness-fused").</summary>
    public static string MeasurementName(this EmbeddingStack s) =>
        s == EmbeddingStack.Eager ? MeasurementStacks.HarnessEager : MeasurementStacks.HarnessFused;
}
