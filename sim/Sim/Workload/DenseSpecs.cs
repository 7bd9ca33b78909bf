namespace Sim.Workload;

/// <summary>DCN-v2 cross network: <see cref="Layers"/> cross layers; <see cref="LowRank"/> r > 0 factors each n x n weight as U (n x r) V (r x n), 0 keeps it full rank.</summary>
public sealed record DcnSpec(int Layers, int LowRank = 0);

public enum SequenceLayerKind { Conv1d, Lstm }

/// <summary>
/// A layer over a sequence (C-LSTM): conv1d with <see cref="Filters"/> output channels and a window of
/// <see cref="Width"/> steps (stride 1, no padding: L - width + 1 output steps, bias and ReLU), or a stack of
/// <see cref="Layers"/> unidirectional LSTM layers with <see cref="Hidden"/> units (PyTorch layout: two bias vectors).
/// </summary>
public sealed record SequenceLayerSpec(SequenceLayerKind Kind, int Filters = 0, int Width = 0, int Hidden = 0, int Layers = 1)
{
    public static SequenceLayerSpec Conv1d(int filters, int width) => new(SequenceLayerKind.Conv1d, Filters: filters, Width: width);
    public static SequenceLayerSpec Lstm(int hidden, int layers = 1) => new(SequenceLayerKind.Lstm, Hidden: hidden, Layers: layers);
}

/// <summary>How a TSL head compares history and candidate: v'w (dot), v'Aw (indefinite) or v'(A'A)w (positive semi-definite, TBSM's default "def").</summary>
public enum TslInner { Dot, Indefinite, Psd }

/// <summary>
/// TBSM's time-series layer. The DLRM tower (bottom MLP, interaction, top MLP) runs once per time step, History + 1
/// times per sample (the history and the candidate), giving vectors z of m = top_mlp[-1]. Each of <see cref="Heads"/>
/// heads scores the normalised history against the candidate through its m x m matrix A, turns the k scores into
/// attention weights with its own attention MLP (k → AttentionMlp → k), forms the context c = a·H and maps [c, w]
/// (2m) through its own output MLP. With several heads a final MLP (heads → heads + 4 → 1) combines them.
/// </summary>
public sealed record TslSpec(int History, TslInner Inner, IReadOnlyList<int> AttentionMlp, IReadOnlyList<int> OutputMlp, int Heads = 1);

internal static class TslInners
{
    public static readonly IReadOnlyDictionary<string, TslInner> Words = new Dictionary<string, TslInner>
    {
        ["dot"] = TslInner.Dot, ["indefinite"] = TslInner.Indefinite, ["psd"] = TslInner.Psd,
    };

    public static string Name(this TslInner i) => Words.First(kv => kv.Value == i).Key;
}
