using Sim.Workload.Ops;

namespace Sim.Workload;

/// <summary>
/// A DLRM: dense features through a bottom MLP, embedding tables pooled per sample, a feature
/// interaction and a top MLP, trained with <see cref="GlobalBatchSize"/> samples per iteration.
/// </summary>
/// <remarks>
/// Beyond the plain DLRM (dot interaction), the same record describes: a DCN-v2 interaction (<see cref="Dcn"/>);
/// a concatenation or a sampled-softmax head (<see cref="Interaction"/>); sequence features consumed by
/// <see cref="SequenceLayers"/> (conv1d, LSTM), whose output joins the interaction as one more vector; and TBSM's
/// time-series layer (<see cref="Tsl"/>), for which the bottom MLP, interaction and top MLP form a tower that runs
/// once per time step. <see cref="DenseOperators"/> lists every dense operator with its FLOP and byte accounting.
/// </remarks>
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
    /// <summary>DCN-v2 cross layers; set when <see cref="Interaction"/> is <see cref="Interaction.Dcn"/>.</summary>
    public DcnSpec? Dcn { get; init; }

    /// <summary>Layers over the sequence features, in order (C-LSTM: conv1d then LSTM).</summary>
    public IReadOnlyList<SequenceLayerSpec> SequenceLayers { get; init; } = [];

    /// <summary>TBSM's time-series layer; when set the tower (bottom, interaction, top) runs History + 1 times per sample.</summary>
    public TslSpec? Tsl { get; init; }

    /// <summary>A hint for planners: the scheme tables take unless there is a reason not to (C-LSTM: data_parallel).</summary>
    public ShardingScheme? DefaultScheme { get; init; }

    /// <summary>The software stack that trains it (eager, fused, or a measured stack's name); null: the default, eager.</summary>
    public string? Stack { get; init; }

    public EmbeddingTable Table(string name) => Tables.First(t => t.Name == name);

    public IReadOnlyList<DenseLayer> BottomLayers => Chain(DenseFeatures, BottomMlp);

    public bool HasBottomMlp => BottomMlp.Count > 0;

    /// <summary>Times the tower (bottom MLP, interaction, top MLP) runs per sample: History + 1 with a TSL, else 1.</summary>
    public int TowerRunsPerSample => Tsl is null ? 1 : Tsl.History + 1;

    /// <summary>Tables whose pooled vectors feed the interaction: all tables under a TSL (one vector per step), else those without a sequence or negative samples.</summary>
    public IEnumerable<EmbeddingTable> InteractionTables =>
        Tsl is not null ? Tables : Tables.Where(t => !t.IsSequence && t.NegativeSamples == 0);

    /// <summary>Sequence features that feed <see cref="SequenceLayers"/> (none under a TSL, where every table is per step).</summary>
    public IEnumerable<EmbeddingTable> SequenceTables => Tsl is not null ? [] : Tables.Where(t => t.IsSequence);

    /// <summary>Output tables of the sampled-softmax head.</summary>
    public IEnumerable<EmbeddingTable> NegativeSampledTables => Tables.Where(t => t.NegativeSamples > 0);

    /// <summary>Width of the sequence encoder's output vector (0 without sequence layers).</summary>
    public int SequenceEncoderDim => DenseStack.EncoderOutputDim(this);

    /// <summary>Vectors entering the interaction: the bottom output, one per interaction table, the sequence encoder's output.</summary>
    public int InteractionVectors => (HasBottomMlp ? 1 : 0) + InteractionTables.Count() + (SequenceLayers.Count > 0 ? 1 : 0);

    /// <summary>Dim of the interaction vectors: the bottom MLP's last width (without a bottom MLP, the first vector's dim).</summary>
    public int InteractionDim => HasBottomMlp ? BottomMlp[^1] : InteractionTables.FirstOrDefault()?.Dim ?? SequenceEncoderDim;

    /// <summary>Width of the concatenated interaction vectors (what DCN-v2 crosses and concat passes on).</summary>
    public long InteractionWidth =>
        (HasBottomMlp ? BottomMlp[^1] : 0L) + InteractionTables.Sum(t => (long)t.Dim) + SequenceEncoderDim;

    /// <summary>Inputs of the top MLP: d + F(F-1)/2 for dot, the concatenated width for dcn and concat, one logit per candidate for negative sampling.</summary>
    public int InteractionOutputs => Interaction switch
    {
        Interaction.Dcn or Interaction.Concat => (int)InteractionWidth,
        Interaction.NegativeSampling => NegativeSampledTables.Sum(t => 1 + t.NegativeSamples),
        _ => InteractionDim + InteractionVectors * (InteractionVectors - 1) / 2,
    };

    public IReadOnlyList<DenseLayer> TopLayers => Chain(InteractionOutputs, TopMlp);

    /// <summary>The tower's MLP layers: bottom, then top.</summary>
    public IEnumerable<DenseLayer> DenseLayers => BottomLayers.Concat(TopLayers);

    /// <summary>Every dense operator in data-flow order, with the rows it runs per sample.</summary>
    public IReadOnlyList<StackedOp> DenseOperators => DenseMemo.GetValue(this, DenseStack.Build);

    // Built once per instance: a workload is immutable, and a prediction reads its dense stack a dozen times. Keyed
    // by identity (a record field would be copied by `with` and would take part in equality).
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<DlrmWorkload, IReadOnlyList<StackedOp>> DenseMemo = new();

    /// <summary>Trainable dense parameters (replicated and all-reduced): MLPs, cross layers, sequence and TSL layers.</summary>
    public long DenseParameters => DenseOperators.Sum(o => o.Op.Parameters);

    /// <summary>Interaction FLOPs per sample (dot: batched Z = X Xᵀ over F vectors of dim d, 2·F²·d per tower run).</summary>
    public double InteractionFlopsPerSample =>
        DenseOperators.Where(o => o.Stage == DenseStage.Interaction).Sum(o => o.ForwardFlopsPerSample);

    /// <summary>Dense forward FLOPs per sample (what papers quote as FLOPs per sample).</summary>
    public double DenseForwardFlopsPerSample => DenseOperators.Sum(o => o.ForwardFlopsPerSample);

    public double DenseBackwardFlopsPerSample => DenseOperators.Sum(o => o.BackwardFlopsPerSample);

    /// <summary>Forward plus backward dense FLOPs per sample (about 3x forward).</summary>
    public double DenseTrainingFlopsPerSample => DenseForwardFlopsPerSample + DenseBackwardFlopsPerSample;

    /// <summary>Dense activations kept for the backward pass per sample, in elements (every operator's outputs and saved intermediates).</summary>
    public double ActivationElementsPerSample => DenseOperators.Sum(o => o.ActivationsPerSample);

    public long EmbeddingParameters => Tables.Sum(t => t.Parameters);

    /// <summary>Embedding storage bytes, int8 scale and bias included.</summary>
    public long EmbeddingBytes => Tables.Sum(t => t.Bytes);

    /// <summary>Rows looked up per sample over all tables.</summary>
    public double EmbeddingLookupsPerSample => Tables.Sum(t => t.LookupsPerSample);

    /// <summary>Embedding vectors per sample over all tables (what the forward all-to-all carries, times dim).</summary>
    public double EmbeddingVectorsPerSample => Tables.Sum(t => t.VectorsPerSample);

    /// <summary>
    /// The plain DLRM the validation harness builds: dot interaction over a bottom MLP and pooled tables, with no
    /// sequence features, negative samples, sequence layers or TSL.
    /// </summary>
    public bool IsPlainDlrm =>
        Interaction == Interaction.Dot && HasBottomMlp && Tsl is null && SequenceLayers.Count == 0 &&
        Tables.All(t => !t.IsSequence && t.NegativeSamples == 0);

    internal static IReadOnlyList<DenseLayer> Chain(int input, IReadOnlyList<int> outputs)
    {
        var layers = new List<DenseLayer>(outputs.Count);
        foreach (var o in outputs) { layers.Add(new DenseLayer(input, o)); input = o; }
        return layers;
    }
}
