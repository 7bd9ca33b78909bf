using System.Globalization;
using Sim.Config;
using Sim.Engine;
using Sim.Topology;

namespace Sim.Conditions;

/// <summary>
/// Another job's steady traffic from one group of nodes to another, <see cref="Gbps"/> in all (Gb/s). Node k of the
/// source group sends to node k (mod its size) of the destination group, GPU g to GPU g, each pair an equal share: the
/// streams cross the NICs, PCIe and the fabric like this job's flows and share them max-min fairly (a stream takes
/// at most its share of the rate, and less where the links are crowded). A node streaming to itself uses NVLink, GPU g
/// to GPU g + 1. Event mode only.
/// </summary>
public sealed record BackgroundStream(int FromFirst, int FromLast, int ToFirst, int ToLast, double Gbps, InputSpot Spot)
{
    /// <summary>Largest total rate accepted (10 Pb/s: beyond any fabric).</summary>
    public const double MaxGbps = 1e7;

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"stream of {Gbps:0.###} Gb/s from nodes {FromFirst}-{FromLast} to nodes {ToFirst}-{ToLast}");

    /// <summary>The GPU-to-GPU streams on <paramref name="c"/>; node ranges beyond the cluster are input errors.</summary>
    public IEnumerable<StreamDemand> On(Cluster c)
    {
        foreach (var n in new[] { FromFirst, FromLast, ToFirst, ToLast })
            if (n >= c.Nodes) throw Spot.Error($"node {n} is beyond '{c.Name}', which has {c.Nodes} nodes (0..{c.Nodes - 1})");
        var senders = FromLast - FromFirst + 1;
        var receivers = ToLast - ToFirst + 1;
        var perPair = Gbps * 1e9 / 8 / (senders * c.GpusPerNode);
        for (var k = 0; k < senders; k++)
        {
            int from = FromFirst + k, to = ToFirst + k % receivers;
            for (var g = 0; g < c.GpusPerNode; g++)
                if (from != to) yield return new StreamDemand(from * c.GpusPerNode + g, to * c.GpusPerNode + g, perPair);
                // A node streaming to itself does so over NVLink, GPU g to its neighbour.
                else if (c.GpusPerNode > 1) yield return new StreamDemand(from * c.GpusPerNode + g, from * c.GpusPerNode + (g + 1) % c.GpusPerNode, perPair);
        }
    }

    /// <summary>A stream with its ranges checked (first &lt;= last, nodes >= 0, 0 &lt; Gb/s &lt;= <see cref="MaxGbps"/>).</summary>
    public static BackgroundStream Create(int fromFirst, int fromLast, int toFirst, int toLast, double gbps, InputSpot spot, Func<string, SimInputException> error)
    {
        if (fromFirst < 0 || toFirst < 0 || fromLast < fromFirst || toLast < toFirst)
            throw error($"node ranges must be FIRST-LAST with 0 <= FIRST <= LAST, found {fromFirst}-{fromLast} and {toFirst}-{toLast}");
        if (!(gbps > 0) || gbps > MaxGbps || !double.IsFinite(gbps))
            throw error($"a stream's rate must be above 0 and at most {MaxGbps.ToString(CultureInfo.InvariantCulture)} Gb/s, found {gbps.ToString(CultureInfo.InvariantCulture)}");
        return new BackgroundStream(fromFirst, fromLast, toFirst, toLast, gbps, spot);
    }

    /// <summary>Parses `nodes:0-3>8-11=400` (Gb/s in all).</summary>
    public static BackgroundStream Parse(string part, string option)
    {
        SimInputException Error(string msg) => new(option, "", $"{msg} in '{part}'");
        var body = part["nodes:".Length..];
        var eq = body.Split('=', 2, StringSplitOptions.TrimEntries);
        var groups = eq[0].Split('>', 2, StringSplitOptions.TrimEntries);
        if (eq.Length != 2 || groups.Length != 2) throw Error("expected nodes:FIRST-LAST>FIRST-LAST=GBPS (e.g. nodes:0-3>8-11=400)");
        var (a, b) = Range(groups[0], Error);
        var (c, d) = Range(groups[1], Error);
        if (!double.TryParse(eq[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var gbps)) throw Error($"expected Gb/s, found '{eq[1]}'");
        return Create(a, b, c, d, gbps, InputSpot.Option(option), Error);
    }

    /// <summary>`3` or `0-3`.</summary>
    public static (int First, int Last) Range(string text, Func<string, SimInputException> error)
    {
        var p = text.Split('-', 2, StringSplitOptions.TrimEntries);
        if (!int.TryParse(p[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || (p.Length == 2 ? !int.TryParse(p[1], NumberStyles.None, CultureInfo.InvariantCulture, out var last) : (last = first) < 0))
            throw error($"expected a node or a range FIRST-LAST, found '{text}'");
        return (first, last);
    }
}
