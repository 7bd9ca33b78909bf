namespace Sim.Workload;

/// <summary>
/// How the interaction vectors (bottom-MLP output, pooled embeddings, sequence-encoder output) are combined.
/// Dot: pairwise dot products (all vectors share one dim). Dcn: DCN-v2 cross layers over their concatenation
/// (dims may differ). Concat: their concatenation, unchanged. NegativeSampling: the vectors are summed into one
/// context vector and scored against the positive and negative rows of the tables with negative samples
/// (word2vec/CeWE-style sampled softmax; no top MLP).
/// </summary>
public enum Interaction { Dot, Dcn, Concat, NegativeSampling }

internal static class Interactions
{
    public static readonly IReadOnlyDictionary<string, Interaction> Words = new Dictionary<string, Interaction>
    {
        ["dot"] = Interaction.Dot, ["dcn"] = Interaction.Dcn, ["concat"] = Interaction.Concat,
        ["negative_sampling"] = Interaction.NegativeSampling,
    };

    public static string Name(this Interaction i) => Words.First(kv => kv.Value == i).Key;
}
