namespace Sim.Iterations;

/// <summary>The phases of one DLRM training iteration, in execution order, and whether each communicates.</summary>
public static class Phases
{
    public const string InputDistribution = "input_distribution";
    public const string EmbeddingLookup = "embedding_lookup";
    public const string AllToAllForward = "all_to_all_forward";
    public const string DenseForward = "dense_forward";
    public const string DenseBackward = "dense_backward";
    public const string AllToAllBackward = "all_to_all_backward";
    public const string EmbeddingBackward = "embedding_backward";
    public const string AllReduce = "all_reduce";
    public const string DenseOptimizer = "dense_optimizer";

    public static readonly IReadOnlyList<string> All =
    [
        InputDistribution, EmbeddingLookup, AllToAllForward, DenseForward, DenseBackward,
        AllToAllBackward, EmbeddingBackward, AllReduce, DenseOptimizer,
    ];

    public static bool IsCommunication(string phase) =>
        phase is InputDistribution or AllToAllForward or AllToAllBackward or AllReduce;
}
