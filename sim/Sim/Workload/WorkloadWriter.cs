using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Sim.Hardware;

namespace Sim.Workload;

/// <summary>Writes a workload in the format <see cref="WorkloadLoader"/> reads (one flow mapping per table), so that it loads back equal.</summary>
internal static partial class WorkloadWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string ToYaml(DlrmWorkload w, IEnumerable<string>? headerComments = null)
    {
        var sb = new StringBuilder();
        foreach (var line in headerComments ?? []) sb.Append("# ").Append(line).Append('\n');
        sb.Append("name: ").Append(Quote(w.Name)).Append('\n');
        sb.Append("source: ").Append(QuoteAlways(w.Source)).Append('\n');
        sb.Append("batch_size: ").Append(w.GlobalBatchSize.ToString(Inv)).Append('\n');
        sb.Append("dense_features: ").Append(w.DenseFeatures.ToString(Inv)).Append('\n');
        if (w.BottomMlp.Count > 0) sb.Append("bottom_mlp: ").Append(List(w.BottomMlp)).Append('\n');
        sb.Append("interaction: ").Append(w.Interaction.Name()).Append('\n');
        if (w.Dcn is { } dcn)
            sb.Append("dcn: {layers: ").Append(dcn.Layers.ToString(Inv)).Append(", low_rank: ").Append(dcn.LowRank.ToString(Inv)).Append("}\n");
        if (w.TopMlp.Count > 0) sb.Append("top_mlp: ").Append(List(w.TopMlp)).Append('\n');
        sb.Append("optimizer: ").Append(w.Optimizer.Name()).Append('\n');
        var p = w.Precision;
        sb.Append("precision: {compute: ").Append(p.Compute.Name()).Append(", all_to_all_forward: ").Append(p.AllToAllForward.Name())
          .Append(", all_to_all_backward: ").Append(p.AllToAllBackward.Name()).Append(", all_reduce: ").Append(p.AllReduce.Name())
          .Append(", index: ").Append(p.Index.Name()).Append("}\n");
        if (w.DefaultScheme is { } scheme) sb.Append("default_scheme: ").Append(scheme.Name()).Append('\n');
        if (w.SequenceLayers.Count > 0)
        {
            sb.Append("sequence_layers:\n");
            foreach (var s in w.SequenceLayers)
                sb.Append(s.Kind == SequenceLayerKind.Conv1d
                    ? $"  - {{kind: conv1d, filters: {s.Filters.ToString(Inv)}, width: {s.Width.ToString(Inv)}}}\n"
                    : $"  - {{kind: lstm, hidden: {s.Hidden.ToString(Inv)}, layers: {s.Layers.ToString(Inv)}}}\n");
        }
        if (w.Tsl is { } tsl)
            sb.Append("tsl: {history: ").Append(tsl.History.ToString(Inv)).Append(", inner: ").Append(tsl.Inner.Name())
              .Append(", attention_mlp: ").Append(List(tsl.AttentionMlp)).Append(", output_mlp: ").Append(List(tsl.OutputMlp))
              .Append(", heads: ").Append(tsl.Heads.ToString(Inv)).Append("}\n");
        sb.Append("tables:\n");
        foreach (var t in w.Tables) AppendTable(sb, t);
        return sb.ToString();
    }

    private static void AppendTable(StringBuilder sb, EmbeddingTable t)
    {
        sb.Append("  - {name: ").Append(Quote(t.Name)).Append(", rows: ").Append(t.Rows.ToString(Inv))
          .Append(", dim: ").Append(t.Dim.ToString(Inv)).Append(", pooling_factor: ").Append(Number(t.PoolingFactor));
        if (t.DType != DType.Fp32) sb.Append(", dtype: ").Append(t.DType.Name());
        if (t.DType == DType.Int8 && t.ScaleBiasDType != DType.Fp32) sb.Append(", scale_bias_dtype: ").Append(t.ScaleBiasDType.Name());
        switch (t.Access.Kind)
        {
            case AccessKind.Zipf: sb.Append(", access: {zipf: ").Append(Number(t.Access.Exponent)).Append('}'); break;
            case AccessKind.HotSet:
                sb.Append(", access: {hot_fraction: ").Append(Number(t.Access.HotFraction)).Append(", hot_share: ").Append(Number(t.Access.HotShare)).Append('}');
                break;
        }
        if (t.Sequence is { } s)
        {
            sb.Append(", sequence: {length: ").Append(s.Length.ToString(Inv));
            if (s.Distribution != LengthDistribution.Fixed)
            {
                sb.Append(", length_distribution: ").Append(s.Distribution == LengthDistribution.Uniform ? "uniform" : "zipf")
                  .Append(", min_length: ").Append(s.MinLength.ToString(Inv));
                if (s.Distribution == LengthDistribution.Zipf) sb.Append(", zipf: ").Append(Number(s.Exponent));
            }
            sb.Append('}');
        }
        if (t.NegativeSamples > 0) sb.Append(", negative_samples: ").Append(t.NegativeSamples.ToString(Inv));
        sb.Append("}\n");
    }

    private static string List(IEnumerable<int> values) => "[" + string.Join(", ", values.Select(v => v.ToString(Inv))) + "]";

    private static string Number(double v) => v.ToString("R", Inv);

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_.-]*$")]
    private static partial Regex Plain();

    private static string Quote(string s) =>
        Plain().IsMatch(s) && s is not ("true" or "false" or "null" or "yes" or "no" or "True" or "False" or "Null") ? s : QuoteAlways(s);

    private static string QuoteAlways(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"";
}
