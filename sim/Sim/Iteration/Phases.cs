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

    /// <summary>The phase's position in <see cref="All"/>; an unknown name is a bug, not an input error.</summary>
    public static int IndexOf(string phase) => phase switch
    {
        InputDistribution => 0, EmbeddingLookup => 1, AllToAllForward => 2, DenseForward => 3, DenseBackward => 4,
        AllToAllBackward => 5, EmbeddingBackward => 6, AllReduce => 7, DenseOptimizer => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(phase), phase, "not a phase of the iteration"),
    };

    public static bool IsCommunication(string phase) =>
        phase is InputDistribution or AllToAllForward or AllToAllBackward or AllReduce;
}
