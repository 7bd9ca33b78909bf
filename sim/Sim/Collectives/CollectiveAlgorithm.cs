using Sim.Nccl;

namespace Sim.Collectives;

/// <summary>How a collective moves its bytes. <see cref="Auto"/> picks the fastest that applies, as NCCL's tuner does.</summary>
internal enum CollectiveAlgorithm
{
    Auto,
    /// <summary>Ring (multi-channel across nodes, one ring per NIC rail): all-reduce, reduce-scatter, all-gather.</summary>
    Ring,
    /// <summary>NCCL-style double binary tree (intra-node chains, inter-node trees), pipelined: all-reduce.</summary>
    Tree,
    /// <summary>All-reduce: intra-node reduce-scatter, inter-node all-reduce, intra-node all-gather. All-to-all: intra-node exchange, then inter-node between same-rail GPUs.</summary>
    Hierarchical,
    /// <summary>All-to-all with every message in flight at once (NCCL's grouped send/receive).</summary>
    Direct,
    /// <summary>All-to-all in n−1 synchronised steps, rank r sending to r+s at step s.</summary>
    Pairwise,
}

internal static class CollectiveAlgorithms
{
    public static IReadOnlyDictionary<string, CollectiveAlgorithm> Words { get; } = new Dictionary<string, CollectiveAlgorithm>
    {
        ["auto"] = CollectiveAlgorithm.Auto, ["ring"] = CollectiveAlgorithm.Ring, ["tree"] = CollectiveAlgorithm.Tree,
        ["double_binary_tree"] = CollectiveAlgorithm.Tree, ["hierarchical"] = CollectiveAlgorithm.Hierarchical,
        ["direct"] = CollectiveAlgorithm.Direct, ["pairwise"] = CollectiveAlgorithm.Pairwise,
    };

    public static string Word(this CollectiveAlgorithm a) => Words.First(kv => kv.Value == a).Key;

    /// <summary>Algorithms that exist for an op (whether they apply also depends on the ranks' shape).</summary>
    public static IReadOnlyList<CollectiveAlgorithm> For(CollectiveOp op) => op switch
    {
        CollectiveOp.AllReduce => [CollectiveAlgorithm.Ring, CollectiveAlgorithm.Tree, CollectiveAlgorithm.Hierarchical],
        CollectiveOp.AllToAll => [CollectiveAlgorithm.Direct, CollectiveAlgorithm.Pairwise, CollectiveAlgorithm.Hierarchical],
        _ => [CollectiveAlgorithm.Ring],
    };
}
