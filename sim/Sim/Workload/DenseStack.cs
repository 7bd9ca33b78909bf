using Sim.Workload.Ops;

namespace Sim.Workload;

/// <summary>Builds a workload's dense operators in data-flow order (see <see cref="DlrmWorkload.DenseOperators"/>).</summary>
internal static class DenseStack
{
    public static IReadOnlyList<StackedOp> Build(DlrmWorkload w)
    {
        var ops = new List<StackedOp>();
        double runs = w.TowerRunsPerSample;
        var bottom = w.BottomLayers;
        for (var i = 0; i < bottom.Count; i++) ops.Add(new($"bottom_mlp[{i}]", DenseStage.Bottom, new LinearOp(bottom[i]), runs));

        Encoder(w, ops);

        switch (w.Interaction)
        {
            case Interaction.Dot:
                ops.Add(new("interaction", DenseStage.Interaction, new DotInteractionOp(w.InteractionVectors, w.InteractionDim), runs));
                break;
            case Interaction.Dcn when w.Dcn is { } dcn:
                var width = (int)w.InteractionWidth;
                for (var l = 0; l < dcn.Layers; l++)
                    ops.Add(new($"dcn[{l}]", DenseStage.Interaction, new CrossLayerOp(width, dcn.LowRank), runs));
                break;
            case Interaction.NegativeSampling:
                foreach (var t in w.NegativeSampledTables)
                    ops.Add(new($"negative_sampling.{t.Name}", DenseStage.Interaction, new NegativeSamplingOp(w.InteractionVectors, 1 + t.NegativeSamples, t.Dim), runs));
                break;
        }

        var top = w.TopLayers;
        for (var i = 0; i < top.Count; i++) ops.Add(new($"top_mlp[{i}]", DenseStage.Top, new LinearOp(top[i]), runs));

        if (w.Tsl is { } tsl && w.TopMlp.Count > 0)
        {
            int k = tsl.History, m = w.TopMlp[^1];
            ops.Add(new("tsl.normalize", DenseStage.Tsl, new TslNormalizeOp(k + 1, m)));
            for (var h = 0; h < tsl.Heads; h++)
            {
                var head = tsl.Heads == 1 ? "tsl" : $"tsl.head[{h}]";
                ops.Add(new($"{head}.attention", DenseStage.Tsl, new TslAttentionOp(k, m, tsl.Inner)));
                var attention = DlrmWorkload.Chain(k, [.. tsl.AttentionMlp, k]);
                for (var i = 0; i < attention.Count; i++) ops.Add(new($"{head}.attention_mlp[{i}]", DenseStage.Tsl, new LinearOp(attention[i])));
                var output = DlrmWorkload.Chain(2 * m, tsl.OutputMlp);
                for (var i = 0; i < output.Count; i++) ops.Add(new($"{head}.output_mlp[{i}]", DenseStage.Head, new LinearOp(output[i])));
            }
            if (tsl.Heads > 1)
            {
                var final = DlrmWorkload.Chain(tsl.Heads * tsl.OutputMlp[^1], [tsl.Heads + 4, 1]);
                for (var i = 0; i < final.Count; i++) ops.Add(new($"tsl.final_mlp[{i}]", DenseStage.Head, new LinearOp(final[i])));
            }
        }
        return ops;
    }

    /// <summary>Channels and padded length of the sequence-layer input: the sequence tables' dims concatenated per step.</summary>
    public static (int Channels, int Length) EncoderInput(DlrmWorkload w)
    {
        int channels = 0, length = 0;
        foreach (var t in w.SequenceTables)
        {
            channels += t.Dim;
            length = Math.Max(length, t.Sequence!.Length);
        }
        return (channels, length);
    }

    /// <summary>Width of the sequence encoder's output vector, 0 without sequence layers.</summary>
    public static int EncoderOutputDim(DlrmWorkload w)
    {
        if (w.SequenceLayers.Count == 0) return 0;
        var channels = EncoderInput(w).Channels;
        foreach (var s in w.SequenceLayers) channels = s.Kind == SequenceLayerKind.Conv1d ? s.Filters : s.Hidden;
        return channels;
    }

    private static void Encoder(DlrmWorkload w, List<StackedOp> ops)
    {
        if (w.SequenceLayers.Count == 0) return;
        var (channels, length) = EncoderInput(w);
        if (channels == 0 || length == 0) return;
        for (var j = 0; j < w.SequenceLayers.Count; j++)
        {
            var s = w.SequenceLayers[j];
            if (s.Kind == SequenceLayerKind.Conv1d)
            {
                var conv = new Conv1dOp(channels, s.Filters, s.Width, length);
                ops.Add(new($"sequence_layers[{j}]", DenseStage.SequenceEncoder, conv));
                (channels, length) = (s.Filters, conv.OutputLength);
            }
            else
            {
                for (var l = 0; l < s.Layers; l++)
                {
                    ops.Add(new(s.Layers == 1 ? $"sequence_layers[{j}]" : $"sequence_layers[{j}].layer[{l}]", DenseStage.SequenceEncoder, new LstmOp(channels, s.Hidden, length)));
                    channels = s.Hidden;
                }
            }
        }
        // A convolutional encoder ends in a max over time; an LSTM ends in its last hidden state.
        if (w.SequenceLayers[^1].Kind == SequenceLayerKind.Conv1d)
            ops.Add(new("sequence_pool", DenseStage.SequenceEncoder, new TemporalMaxPoolOp(length, channels)));
    }
}
