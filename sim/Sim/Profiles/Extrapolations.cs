using System.Globalization;
using System.Text.RegularExpressions;
using Sim.Accounting;
using Sim.Sharding;
using Sim.Topology;
using Sim.Hardware;
using Sim.Workload;

namespace Sim.Profiles;

/// <summary>
/// Where a prediction leaves what its profile measured (issue 14: "a profile knows its domain"): one line per
/// extrapolation — another card, a stack, optimizer or dtype never measured, a GPU count whose collectives were not
/// measured, sizes beyond the operator grid. Nothing is borrowed silently.
/// </summary>
internal static partial class Extrapolations
{
    public static IReadOnlyList<string> Of(CalibrationProfile? profile, Cluster c, DlrmWorkload w, ShardingPlan plan, string stack)
    {
        var lines = new List<string>();
        if (profile is null)
        {
            lines.Add("no calibration profile: every operator is priced by the built-in roofline defaults (uncalibrated; see the README's Accuracy section)");
            return lines;
        }
        var d = profile.Domain;
        var card = d?.Card ?? profile.Card;
        if (profile.Transfer(c.Gpu) is { } t)
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"profile measured on {card}, topology's GPU is {c.Gpu.Model}: operators transferred by spec ratios (time per byte x{t.PerByte:0.00}, per FLOP x{t.PerFlop:0.00})"));
        else if (!SameCard(card, c.Gpu.Model))
            lines.Add($"profile measured on {card}, topology's GPU is {c.Gpu.Model}: its fitted operators and collectives are borrowed from another card");
        var models = profile.OperatorsFor(stack);
        if (profile.Operators is not { Count: > 0 })
            lines.Add("profile has no operator models: operators are priced by the roofline with its fitted efficiencies");
        else if (models is null)
            lines.Add($"stack '{stack}' was never measured (measured: {string.Join(", ", profile.Operators.Select(o => o.MeasuredStack))}): operators are priced by the roofline");
        else if (models.MeasuredStack != stack && !(stack is "eager" or "fused" && models.Form == stack))
            lines.Add($"stack '{stack}' was never measured: using the profile's {models.MeasuredStack} models");
        if (d is null) return lines;
        var opt = w.Optimizer.Name();
        if (d.Optimizers.Count > 0 && !d.Optimizers.Contains(opt))
            lines.Add($"optimizer {opt} was never measured (measured: {string.Join(", ", d.Optimizers)})");
        foreach (var dt in plan.Tables.Select(t => t.Table.DType.Name()).Append(w.Precision.Compute.Name()).Distinct())
            if (d.Dtypes.Count > 0 && !d.Dtypes.Contains(dt) && !(dt == "fp32" && d.Dtypes.Contains("tf32")))
                lines.Add($"dtype {dt} was never measured (measured: {string.Join(", ", d.Dtypes)})");
        if (c.WorldSize > 1 && d.CollectivesFrom is { } from && d.CollectiveGpuCounts.Contains(c.WorldSize))
            lines.Add($"collectives at {c.WorldSize} GPUs were measured on {from}, not on this profile's card (same interconnect assumed)");
        if (c.WorldSize > 1 && !d.CollectiveGpuCounts.Contains(c.WorldSize))
            lines.Add(d.CollectiveGpuCounts.Count == 0
                ? $"no collectives were measured: {c.WorldSize}-GPU collectives come from the link model (spec-sheet bandwidths)"
                : $"collectives at {c.WorldSize} GPUs were not measured (measured at {string.Join(", ", d.CollectiveGpuCounts)}): the link model with the fitted efficiency");
        var emb = EmbeddingWork.Compute(c, w, plan);
        var maxLookups = emb.Shards.SelectMany(s => s).Select(s => s.Lookups).DefaultIfEmpty(0).Max();
        if (d.LookupsPerCall.Max > 0 && maxLookups > 2 * d.LookupsPerCall.Max)
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"embedding calls of up to {maxLookups:0.###e0} lookups; the grid measured up to {d.LookupsPerCall.Max:0.###e0}"));
        var dims = plan.Tables.Select(t => (double)t.Table.Dim).ToList();
        if (d.Dim.Max > 0 && dims.Any(x => x < d.Dim.Min / 2 || x > d.Dim.Max * 2))
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"embedding dims {dims.Min():0}..{dims.Max():0}; the grid measured {d.Dim.Min:0}..{d.Dim.Max:0}"));
        return lines;
    }

    /// <summary>Whether two card names are one card: the same product family (H100, H200, ...), else the same name.</summary>
    public static bool SameCard(string a, string b) =>
        (CardFamily(a) ?? a.ToUpperInvariant()) == (CardFamily(b) ?? b.ToUpperInvariant());

    /// <summary>The product family a card's name carries (H100, H200, A100, ...), or null.</summary>
    public static string? CardFamily(string name) => CardPattern().Match(name.ToUpperInvariant()) is { Success: true } m ? m.Value : null;

    [GeneratedRegex(@"\b[A-Z]{1,2}\d{2,3}[A-Z]?\b|(?<=[^A-Z0-9])[A-Z]\d{3}|^[A-Z]\d{3}")]
    private static partial Regex CardPattern();
}
