namespace Sim.Collectives;

/// <summary>
/// A balanced binary tree over positions 0..m−1 (each subtree's root is the middle of its range), and its
/// twin shifted by one position. In the pair most leaves of one tree are inner vertices of the other, which
/// is what lets a double binary tree use every link in both directions.
/// </summary>
internal sealed class BinaryTree
{
    /// <summary>Parent position of each position, −1 for the root.</summary>
    public int[] Parent { get; }
    /// <summary>Edges on the longest root-to-leaf path.</summary>
    public int Depth { get; }

    private BinaryTree(int[] parent, int depth) { Parent = parent; Depth = depth; }

    public static BinaryTree Balanced(int m)
    {
        var parent = new int[m];
        var depth = Build(parent, 0, m - 1, -1, 0);
        return new BinaryTree(parent, depth);
    }

    private static int Build(int[] parent, int lo, int hi, int up, int level)
    {
        if (lo > hi) return level - 1;
        var mid = (lo + hi) / 2;
        parent[mid] = up;
        return Math.Max(Build(parent, lo, mid - 1, mid, level + 1), Build(parent, mid + 1, hi, mid, level + 1));
    }

    /// <summary>The twin: position p of this tree becomes element (p+1) mod m.</summary>
    public BinaryTree Shifted()
    {
        var m = Parent.Length;
        var parent = new int[m];
        for (var p = 0; p < m; p++) parent[(p + 1) % m] = Parent[p] < 0 ? -1 : (Parent[p] + 1) % m;
        return new BinaryTree(parent, Depth);
    }
}
