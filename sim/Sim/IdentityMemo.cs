using System.Runtime.CompilerServices;

namespace Sim;

/// <summary>
/// Results computed once per owner object (by identity: a plan's table list, a workload; the entries go with the owner)
/// and per key of everything else the computation reads. A sweep's rows that share the owner share the result. Reads
/// take no lock (a copy-on-write array per owner), so threads of a sweep do not queue on it.
/// </summary>
public static class IdentityMemo<TOwner, TKey, TValue> where TOwner : class where TKey : IEquatable<TKey>
{
    /// <summary>One memo; a static field of the computation that owns it.</summary>
    public sealed class Table
    {
        internal readonly ConditionalWeakTable<TOwner, Entries> ByOwner = new();
    }

    internal sealed class Entries
    {
        public (TKey Key, TValue Value)[] Items = [];
    }

    // An owner seen with more keys than this (a sweep over batch sizes on one fixed plan file) stops remembering new ones.
    private const int MaxPerOwner = 32;

    /// <param name="compute">computes the value from <paramref name="state"/> on a miss (a static lambda: a hit allocates nothing).</param>
    public static TValue Get<TState>(Table memo, TOwner owner, TKey key, TState state, Func<TState, TValue> compute)
    {
        var entries = memo.ByOwner.GetValue(owner, static _ => new Entries());
        foreach (var (k, v) in Volatile.Read(ref entries.Items)) if (k.Equals(key)) return v;
        var value = compute(state);
        while (true)
        {
            var items = Volatile.Read(ref entries.Items);
            if (items.Length >= MaxPerOwner) return value;
            foreach (var (k, v) in items) if (k.Equals(key)) return v; // another thread computed the same meanwhile
            if (Interlocked.CompareExchange(ref entries.Items, [.. items, (key, value)], items) == items) return value;
        }
    }
}
