using System.Runtime.CompilerServices;

namespace Sim.Sharding;

/// <summary>
/// Results computed once per plan table list (by identity: a schedule change keeps the list, and the entries go with
/// the plan) and per key of everything else the computation reads. A sweep's rows that share a plan share the result.
/// Reads take no lock (a copy-on-write array per plan), so threads of a sweep do not queue on it.
/// </summary>
internal static class PlanMemo<TKey, TValue> where TKey : struct, IEquatable<TKey> where TValue : class
{
    /// <summary>One memo; a static field of the computation that owns it.</summary>
    public sealed class Table
    {
        internal readonly ConditionalWeakTable<IReadOnlyList<TablePlan>, Entries> ByPlan = new();
    }

    internal sealed class Entries
    {
        public (TKey Key, TValue Value)[] Items = [];
    }

    // A plan seen with more keys than this (a sweep over batch sizes on one fixed plan file) stops remembering new ones.
    private const int MaxPerPlan = 32;

    public static TValue Get(Table memo, IReadOnlyList<TablePlan> tables, TKey key, Func<TValue> compute)
    {
        var entries = memo.ByPlan.GetValue(tables, _ => new Entries());
        foreach (var (k, v) in Volatile.Read(ref entries.Items)) if (k.Equals(key)) return v;
        var value = compute();
        while (true)
        {
            var items = Volatile.Read(ref entries.Items);
            if (items.Length >= MaxPerPlan) return value;
            foreach (var (k, v) in items) if (k.Equals(key)) return v; // another thread computed the same meanwhile
            if (Interlocked.CompareExchange(ref entries.Items, [.. items, (key, value)], items) == items) return value;
        }
    }
}
