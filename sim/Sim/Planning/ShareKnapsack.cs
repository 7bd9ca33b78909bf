namespace Sim.Planning;

/// <summary>
/// The greedy multiple-choice knapsack behind <see cref="TierChoice"/>: every item (table) starts at option 0 and
/// moves up its options (more memory, fewer predicted seconds) one step at a time, the step that saves the most seconds
/// per byte first, while the budget lasts. Ties go to the lower item index, so the result is deterministic.
/// </summary>
internal static class ShareKnapsack
{
    /// <param name="cost">Predicted seconds of each item at each option.</param>
    /// <param name="bytes">Bytes an item's move from option <c>from</c> to option <c>to</c> takes from the budget.</param>
    /// <returns>The option chosen for each item.</returns>
    public static int[] Spend(double[,] cost, Func<int, int, int, double> bytes, double budget)
    {
        int n = cost.GetLength(0), m = cost.GetLength(1);
        var at = new int[n];
        var queue = new PriorityQueue<(int Item, int Option), (double NegRatio, int Item)>();
        void Offer(int i)
        {
            var bestJ = -1;
            var bestRatio = 0.0;
            for (var j = at[i] + 1; j < m; j++)
            {
                var b = bytes(i, at[i], j);
                if (b > budget) break;
                var ratio = (cost[i, at[i]] - cost[i, j]) / Math.Max(b, 1);
                if (ratio > bestRatio) { bestRatio = ratio; bestJ = j; }
            }
            if (bestJ >= 0) queue.Enqueue((i, bestJ), (-bestRatio, i));
        }
        for (var i = 0; i < n; i++) Offer(i);
        while (queue.TryDequeue(out var step, out _))
        {
            var b = bytes(step.Item, at[step.Item], step.Option);
            if (b > budget) { Offer(step.Item); continue; }
            budget -= b;
            at[step.Item] = step.Option;
            Offer(step.Item);
        }
        return at;
    }
}
