namespace Sim.Engine;

/// <summary>
/// Items (nodes, or GPUs) split into equal groups, for coalescing a large cluster's traffic: a group's traffic is
/// simulated on its first member's ports as the average load of its members.
/// </summary>
internal sealed class TrafficGroups
{
    /// <summary>Each group's items; the first is the one whose ports carry the group's traffic.</summary>
    public int[][] Members { get; }
    private readonly int[] _groupOf;

    private TrafficGroups(int[][] members, int items)
    {
        Members = members;
        _groupOf = new int[items];
        for (var g = 0; g < Members.Length; g++)
            foreach (var n in Members[g]) _groupOf[n] = g;
    }

    public int Count => Members.Length;
    public int GroupOf(int item) => _groupOf[item];
    public int First(int group) => Members[group][0];
    public int SizeOf(int group) => Members[group].Length;
    public int LargestSize => Members.Max(m => m.Length);

    /// <summary>Groups of <paramref name="size"/> consecutive items.</summary>
    public static TrafficGroups Contiguous(int items, int size)
    {
        if (size < 1 || items % size != 0) throw new ArgumentException($"{items} items do not split into groups of {size}");
        return new(Enumerable.Range(0, items / size).Select(g => Enumerable.Range(g * size, size).ToArray()).ToArray(), items);
    }

    /// <summary>
    /// Items sorted by load (heaviest first, ties by index, so the result is deterministic) and cut into groups of at
    /// most <paramref name="maxSize"/> whose loads stay within <paramref name="tolerance"/> (relative) of the group's
    /// first: an outlier gets a group of its own, the even bulk large groups.
    /// </summary>
    public static TrafficGroups ByLoad(double[] load, int maxSize, double tolerance) =>
        ByLoad(load, maxSize, (item, first) => load[first] - load[item] <= tolerance * Math.Max(Math.Abs(load[first]), Math.Abs(load[item])));

    /// <summary>The same with a test of whether an item may join the group that <c>first</c> opened.</summary>
    public static TrafficGroups ByLoad(double[] load, int maxSize, Func<int, int, bool> alike)
    {
        var order = Enumerable.Range(0, load.Length).ToArray();
        Array.Sort(order, (a, b) => load[a] != load[b] ? load[b].CompareTo(load[a]) : a.CompareTo(b));
        var groups = new List<int[]>();
        var current = new List<int>();
        foreach (var item in order)
        {
            if (current.Count > 0 && (current.Count == maxSize || !alike(item, current[0])))
            {
                groups.Add([.. current]);
                current.Clear();
            }
            current.Add(item);
        }
        if (current.Count > 0) groups.Add([.. current]);
        return new(groups.ToArray(), load.Length);
    }

    /// <summary>
    /// The group size for at most about <paramref name="maxGroups"/> groups of <paramref name="items"/>: the largest
    /// divisor of the item count not above items / maxGroups (rounded up), so that groups are equal; 1 when none
    /// larger fits.
    /// </summary>
    public static int SizeFor(int items, int maxGroups)
    {
        if (maxGroups < 1) throw new ArgumentOutOfRangeException(nameof(maxGroups), "must be at least 1");
        return Divisors.LargestAtMost(items, (items + maxGroups - 1) / maxGroups);
    }
}
