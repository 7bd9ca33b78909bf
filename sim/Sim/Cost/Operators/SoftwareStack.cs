using Sim.Config;

namespace Sim.Cost.Operators;

/// <summary>
/// What software runs the embedding part of a step, which decides the form of its cost (issue 14):
/// <see cref="Eager"/>: PyTorch eager — autograd into EmbeddingBag(sparse=True) writes one gradient row per lookup,
/// then a separate sparse optimizer step runs over that uncoalesced gradient; the host issues every kernel from Python.
/// <see cref="Fused"/>: FBGEMM/TorchRec-style table-batched embeddings (the paper's Neo) — sort, unique, segment-reduce
/// and the optimizer in one pass over the unique rows.
/// </summary>
public enum SoftwareStack { Eager, Fused }

internal static class SoftwareStacks
{
    public static readonly IReadOnlyDictionary<string, SoftwareStack> Words = new Dictionary<string, SoftwareStack>
    {
        ["eager"] = SoftwareStack.Eager, ["fused"] = SoftwareStack.Fused,
    };

    public static string Name(this SoftwareStack s) => s == SoftwareStack.Eager ? "eager" : "fused";

    /// <summary>The form a measured stack has (pytorch-eager and harness-eager are eager; harness-fused is fused).</summary>
    public static SoftwareStack FormOf(string measuredStack) =>
        measuredStack.EndsWith("fused", StringComparison.Ordinal) ? SoftwareStack.Fused : SoftwareStack.Eager;

    public static SoftwareStack Parse(string word, string file, string field) =>
        Words.TryGetValue(word, out var s) ? s
            : throw new SimInputException(file, field, $"'{word}' is not a stack; expected {string.Join(" or ", Words.Keys)}");
}
