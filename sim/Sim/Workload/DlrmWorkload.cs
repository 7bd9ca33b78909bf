namespace Sim.Workload;

/// <summary>
/// A DLRM: dense features through a bottom MLP, embedding tables pooled per sample, a feature
/// interaction and a top MLP, trained with <see cref="GlobalBatchSize"/> samples per iteration.
/// </summary>
public sealed record DlrmWorkload(
    string Name,
    string Source,
    long GlobalBatchSize,
    int DenseFeatures,
    IReadOnlyList<int> BottomMlp,
    Interaction Interaction,
    IReadOnlyList<int> TopMlp,
    Optimizer Optimizer,
    Precision Precision,
    IReadOnlyList<EmbeddingTable> Tables)
{
    public EmbeddingTable Table(string name) => Tables.First(t => t.Name == name);

    public IReadOnlyList<DenseLayer> BottomLayers => Chain(DenseFeatures, BottomMlp);

    /// <summary>Dot interaction: pairwise dots of the bottom output and the T pooled embeddings.</summary>
    public int InteractionVectors => Tables.Count + 1;
    public int InteractionDim => BottomMlp[^1];
    public int InteractionOutputs => InteractionDim + InteractionVectors * (InteractionVectors - 1) / 2;

    public IReadOnlyList<DenseLayer> TopLayers => Chain(InteractionOutputs, TopMlp);

    public IEnumerable<DenseLayer> DenseLayers => BottomLayers.Concat(TopLayers);

    public long DenseParameters => DenseLayers.Sum(l => l.Parameters);

    /// <summary>Batched Z = X Xᵀ over F vectors of dim d: 2·F²·d FLOPs per sample.</summary>
    public double InteractionFlopsPerSample => 2.0 * InteractionVectors * InteractionVectors * InteractionDim;

    public long EmbeddingParameters => Tables.Sum(t => t.Parameters);

    private static IReadOnlyList<DenseLayer> Chain(int input, IReadOnlyList<int> outputs)
    {
        var layers = new List<DenseLayer>(outputs.Count);
        foreach (var o in outputs) { layers.Add(new DenseLayer(input, o)); input = o; }
        return layers;
    }
}
