using System.Globalization;
using Sim.Config;
using Sim.Topology;

namespace Sim.Conditions;

/// <summary>
/// Traffic of other jobs on the fabric, as a steady fraction of each link's capacity per tier: a link of a tier at
/// load f leaves (1 − f) of its capacity to this job. Tiers are the cluster graph's fine tiers (nvlink, pcie, cpu, nic,
/// leaf, spine) or the coarse `scale-out` (every tier but nvlink and cpu) and `intra-node`; a fine tier's own entry
/// wins over its coarse one. Only the event engine sees it: the analytical closed forms price an empty fabric.
/// </summary>
public sealed record BackgroundLoad(IReadOnlyDictionary<string, double> Fractions)
{
    public static readonly BackgroundLoad None = new(new Dictionary<string, double>());

    /// <summary>Explicit streams of other jobs between node groups, contending max-min fairly with this job's flows.</summary>
    public IReadOnlyList<BackgroundStream> Streams { get; init; } = [];

    public const string ScaleOut = "scale-out";
    public const string IntraNode = "intra-node";

    public static IReadOnlyList<string> TierWords { get; } = [ScaleOut, IntraNode, .. TierNames.All];

    public bool IsNone => Fractions.Values.All(f => f == 0) && Streams.Count == 0;

    /// <summary>The share of <paramref name="link"/>'s capacity left to the job.</summary>
    public double ShareOf(NetworkLink link)
    {
        if (Fractions.TryGetValue(link.TierName, out var f)) return 1 - f;
        var coarse = link.Tier == LinkTier.ScaleOut ? ScaleOut : IntraNode;
        return Fractions.TryGetValue(coarse, out f) ? 1 - f : 1;
    }

    public string Describe() => string.Join(", ", Fractions.OrderBy(kv => kv.Key, StringComparer.Ordinal)
        .Select(kv => $"{kv.Key} {kv.Value.ToString("P0", CultureInfo.InvariantCulture)} of each link's capacity")
        .Concat(Streams.Select(s => s.Describe())));

    /// <summary>A fraction checked to lie in [0, 1): a link fully taken by others would never finish this job's flows.</summary>
    public static double CheckFraction(double f, Func<string, SimInputException> error)
    {
        if (!double.IsFinite(f) || f < 0 || f >= 1)
            throw error($"a background load is a fraction of the link in [0, 1), found {f.ToString(CultureInfo.InvariantCulture)}");
        return f;
    }

    public static string CheckTier(string tier, Func<string, SimInputException> error) =>
        TierWords.Contains(tier) ? tier : throw error($"unknown tier '{tier}'; expected one of: {string.Join(", ", TierWords)}");

    /// <summary>Parses `scale-out=0.3,leaf=0.5,nodes:0-3>8-11=400` (the --background option).</summary>
    public static BackgroundLoad Parse(string text, string option = "--background")
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        var streams = new List<BackgroundStream>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            SimInputException Error(string msg) => new(option, "", $"{msg} in '{part}'");
            if (part.StartsWith("nodes:", StringComparison.Ordinal))
            {
                streams.Add(BackgroundStream.Parse(part, option));
                continue;
            }
            if (kv.Length != 2) throw Error("expected TIER=FRACTION (e.g. scale-out=0.3,leaf=0.5)");
            var tier = CheckTier(kv[0], Error);
            if (!double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var f))
                throw Error($"expected a fraction, found '{kv[1]}'");
            if (!d.TryAdd(tier, CheckFraction(f, Error))) throw Error($"tier '{tier}' given twice");
        }
        if (d.Count == 0 && streams.Count == 0) throw new SimInputException(option, "", "expected at least one TIER=FRACTION or nodes:A-B>C-D=GBPS");
        return new BackgroundLoad(d) { Streams = streams };
    }
}
