namespace Sim.Workload;

public enum Optimizer { Sgd, RowWiseAdagrad }

public static class Optimizers
{
    public static readonly IReadOnlyDictionary<string, Optimizer> Words = new Dictionary<string, Optimizer>
    {
        ["sgd"] = Optimizer.Sgd, ["rowwise_adagrad"] = Optimizer.RowWiseAdagrad,
    };

    public static string Name(this Optimizer o) => Words.First(kv => kv.Value == o).Key;

    /// <summary>Optimizer state bytes kept per embedding row (row-wise Adagrad: one fp32 per row).</summary>
    public static int StateBytesPerRow(this Optimizer o) => o == Optimizer.RowWiseAdagrad ? 4 : 0;

    /// <summary>Optimizer state bytes per dense fp32 parameter (dense Adagrad keeps one accumulator).</summary>
    public static int StateBytesPerDenseParameter(this Optimizer o) => o == Optimizer.RowWiseAdagrad ? 4 : 0;
}
