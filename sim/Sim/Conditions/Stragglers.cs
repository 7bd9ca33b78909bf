using System.Globalization;
using Sim.Config;
using Sim.Topology;

namespace Sim.Conditions;

/// <summary>Which GPUs a fixed slowdown applies to.</summary>
public enum StragglerScope { Rank, Node }

/// <summary>A fixed slowdown: every compute task of the rank (or of every rank of the node) takes <see cref="Factor"/> times as long.</summary>
public sealed record StragglerFactor(StragglerScope Scope, int Index, double Factor, InputSpot Spot)
{
    public string Describe() => $"{Scope.ToString().ToLowerInvariant()} {Index.ToString(CultureInfo.InvariantCulture)} x{Factor.ToString("0.###", CultureInfo.InvariantCulture)}";
}

/// <summary>
/// Slow GPUs and compute jitter. Fixed factors scale a rank's compute tasks (factors of a rank and its node multiply);
/// jitter multiplies every compute task of every simulated iteration by its own seeded draw (<see cref="Jitter"/>).
/// Collectives are not scaled: a slow rank delays them only by arriving late, which is what a synchronous step sees.
/// </summary>
public sealed record Stragglers(IReadOnlyList<StragglerFactor> Fixed, Jitter? Jitter)
{
    public static readonly Stragglers None = new([], null);

    public bool IsNone => Fixed.Count == 0 && Jitter is null;

    /// <summary>Largest accepted slowdown (a rank 1,000 times slower is a dead GPU, not a straggler).</summary>
    public const double MaxFactor = 1000;

    /// <summary>Per rank, the product of its fixed factors; null when there are none. Ranks or nodes beyond the cluster are input errors.</summary>
    public double[]? FactorsPerRank(Cluster c)
    {
        if (Fixed.Count == 0) return null;
        var f = new double[c.WorldSize];
        Array.Fill(f, 1.0);
        foreach (var s in Fixed)
        {
            var limit = s.Scope == StragglerScope.Rank ? c.WorldSize : c.Nodes;
            if (s.Index >= limit)
                throw s.Spot.Error($"{s.Scope.ToString().ToLowerInvariant()} {s.Index} is beyond '{c.Name}', which has {limit} {(s.Scope == StragglerScope.Rank ? "GPUs (ranks 0.." : "nodes (0..")}{limit - 1})");
            if (s.Scope == StragglerScope.Rank) f[s.Index] *= s.Factor;
            else for (var r = s.Index * c.GpusPerNode; r < (s.Index + 1) * c.GpusPerNode; r++) f[r] *= s.Factor;
        }
        return f;
    }

    public string Describe() => string.Join(", ", Fixed.Select(s => s.Describe()).Concat(Jitter is { } j ? [j.Describe()] : []));

    /// <summary>Parses `rank:3=2.0,node:1=1.5` (the --stragglers option).</summary>
    public static IReadOnlyList<StragglerFactor> Parse(string text, string option = "--stragglers")
    {
        var list = new List<StragglerFactor>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.Split('=', 2);
            var sel = eq[0].Split(':', 2);
            if (eq.Length != 2 || sel.Length != 2)
                throw new SimInputException(option, "", $"expected rank:I=FACTOR or node:I=FACTOR (e.g. rank:3=2.0,node:1=1.5), found '{part}'");
            var scope = sel[0].Trim() switch
            {
                "rank" => StragglerScope.Rank,
                "node" => StragglerScope.Node,
                var w => throw new SimInputException(option, "", $"unknown scope '{w}' in '{part}'; expected rank or node"),
            };
            if (!int.TryParse(sel[1].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                throw new SimInputException(option, "", $"expected a whole number after '{sel[0]}:', found '{sel[1]}'");
            list.Add(new StragglerFactor(scope, index, ParseFactor(eq[1].Trim(), option, part), InputSpot.Option(option)));
        }
        if (list.Count == 0) throw new SimInputException(option, "", "expected at least one rank:I=FACTOR or node:I=FACTOR");
        return list;
    }

    internal static double ParseFactor(string text, string option, string part)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var f) || !double.IsFinite(f))
            throw new SimInputException(option, "", $"expected a slowdown factor (a number, 1 = no change), found '{text}' in '{part}'");
        return CheckFactor(f, msg => new SimInputException(option, "", $"{msg} in '{part}'"));
    }

    internal static double CheckFactor(double f, Func<string, SimInputException> error)
    {
        if (f <= 0) throw error($"a slowdown factor must be positive, found {f.ToString(CultureInfo.InvariantCulture)}");
        if (f > MaxFactor) throw error($"a slowdown factor must be at most {MaxFactor.ToString(CultureInfo.InvariantCulture)}, found {f.ToString(CultureInfo.InvariantCulture)}");
        return f;
    }
}
