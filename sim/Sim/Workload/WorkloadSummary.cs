using System.Globalization;
using Sim.Workload.Ops;
using Sim.Hardware;

namespace Sim.Workload;

/// <summary>Storage of the tables of one dtype.</summary>
internal sealed record DTypeBytes(DType DType, int Tables, long Parameters, long Bytes);

/// <summary>
/// What `sim workload describe` prints: sizes, bytes by dtype, FLOPs and lookups per sample, the interaction and
/// every dense operator. A pure function of the workload.
/// </summary>
internal sealed record WorkloadSummary(
    DlrmWorkload Workload,
    string InteractionText,
    IReadOnlyList<string> ModelNotes,
    EmbeddingTable LargestTable,
    int SequenceFeatures,
    IReadOnlyList<DTypeBytes> BytesByDType,
    long DenseBytes,
    double EmbeddingForwardFlopsPerSample,
    double EmbeddingBytesPerSample,
    double LookupWeightedHitRate)
{
    /// <summary>Cache fraction for the hit-rate line: FBGEMM's default UVM cache holds 20% of the rows.</summary>
    public const double CacheFraction = 0.2;

    public long TotalParameters => Workload.EmbeddingParameters + Workload.DenseParameters;

    public static WorkloadSummary Of(DlrmWorkload w)
    {
        var inv = CultureInfo.InvariantCulture;
        var largest = w.Tables.OrderByDescending(t => t.Bytes).ThenBy(t => t.Name, StringComparer.Ordinal).First();
        var byType = w.Tables.GroupBy(t => t.DType).OrderBy(g => g.Key)
            .Select(g => new DTypeBytes(g.Key, g.Count(), g.Sum(t => t.Parameters), g.Sum(t => t.Bytes))).ToList();
        double embFlops = 0, embBytes = 0, lookups = 0, hits = 0;
        foreach (var t in w.Tables)
        {
            var k = EmbeddingOps.Forward(t, 1, t.Dim);
            embFlops += k.Flops;
            embBytes += k.Bytes;
            lookups += t.LookupsPerSample;
            hits += t.LookupsPerSample * t.HitRate(CacheFraction);
        }
        var interaction = w.Interaction switch
        {
            Interaction.Dot => $"dot over {w.InteractionVectors} vectors of dim {w.InteractionDim} ({w.InteractionOutputs.ToString("N0", inv)} outputs)",
            Interaction.Dcn => $"dcn: {w.Dcn!.Layers} cross layers, {(w.Dcn.LowRank > 0 ? $"low rank {w.Dcn.LowRank}" : "full rank")}, over {w.InteractionWidth.ToString("N0", inv)} inputs ({w.InteractionVectors} vectors)",
            Interaction.Concat => $"concat of {w.InteractionVectors} vector(s) ({w.InteractionWidth.ToString("N0", inv)} wide)",
            _ => $"negative sampling: a context of {w.InteractionVectors} summed vectors scored against " +
                 string.Join(", ", w.NegativeSampledTables.Select(t => $"1 + {t.NegativeSamples} rows of '{t.Name}'")),
        };
        var notes = new List<string>();
        if (w.Tsl is { } tsl)
            notes.Add($"tsl: the tower runs {w.TowerRunsPerSample} times per sample (history {tsl.History} + candidate); {tsl.Heads} head(s), {tsl.Inner.Name()} inner product over m = {w.TopMlp[^1]}, attention MLP {string.Join("-", new[] { tsl.History }.Concat(tsl.AttentionMlp).Append(tsl.History))}, output MLP {string.Join("-", new[] { 2 * w.TopMlp[^1] }.Concat(tsl.OutputMlp))}");
        if (w.SequenceLayers.Count > 0)
        {
            var (channels, length) = DenseStack.EncoderInput(w);
            notes.Add($"sequence layers: {string.Join(" → ", w.SequenceLayers.Select(s => s.Kind == SequenceLayerKind.Conv1d ? $"conv1d {s.Filters} filters x {s.Width}" : $"lstm {s.Hidden}" + (s.Layers > 1 ? $" x {s.Layers} layers" : "")))} over {length} steps of {channels} channels → {w.SequenceEncoderDim}");
        }
        foreach (var t in w.Tables.Where(t => t.IsSequence).DistinctBy(t => t.Sequence))
            notes.Add($"sequence feature(s) like '{t.Name}': {t.Sequence!.Describe()}");
        if (w.DefaultScheme is { } s) notes.Add($"default scheme: {ShardingSchemes.Name(s)}");
        var skewed = w.Tables.Where(t => t.Access.Kind != AccessKind.Uniform).ToList();
        if (skewed.Count > 0)
            notes.Add($"access skew: {skewed.Count} of {w.Tables.Count} tables ({string.Join(", ", skewed.Select(t => t.Access.Describe()).Distinct().Take(3))})");
        var denseBytes = w.DenseParameters * 4L;
        return new WorkloadSummary(w, interaction, notes, largest, w.Tables.Count(t => t.IsSequence), byType, denseBytes,
            embFlops, embBytes, lookups > 0 ? hits / lookups : 0);
    }
}
