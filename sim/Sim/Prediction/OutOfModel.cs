using System.Globalization;
using Sim.Iterations;
using Sim.Profiles;

namespace Sim.Predictions;

/// <summary>
/// Where a prediction's inputs sit in the model's weakest places, flagged next to the number: a host-bound step (the GPU
/// waits on Python and kernel launches, priced by per-call issue times fitted on one machine), a tiny batch per GPU
/// (fixed per-call costs dominate and the size-dependent efficiencies are least certain), and a profile used outside
/// what it measured (the extrapolation lines say which inputs).
/// </summary>
internal static class OutOfModel
{
    /// <summary>Host issue time over the step above which the step counts as host-bound.</summary>
    public const double HostBoundShare = 0.5;

    /// <summary>Samples per GPU below which a batch counts as tiny when the profile measured no batch range.</summary>
    public const long TinyBatchPerGpu = 64;

    public static IReadOnlyList<string> Of(IterationGraph graph, CalibrationProfile? profile, IReadOnlyList<string> extrapolations, string? builtInNote)
    {
        var inv = CultureInfo.InvariantCulture;
        var flags = new List<string>();
        if (graph.HostShare is { } host && host >= HostBoundShare)
            flags.Add($"host-bound step: the host issues for {host.ToString("P0", inv)} of a rank's step, so the per-call issue times (fitted on one machine) decide the answer");
        var batch = graph.Embedding.LocalBatch;
        var measuredMin = profile?.Domain?.Batch is { Min: > 0 } range ? range.Min : 0;
        if (measuredMin > 0 && batch < measuredMin / 2)
            flags.Add($"tiny batch: {batch.ToString(inv)} samples per GPU, below the {measuredMin.ToString(inv)} the profile measured: per-call costs dominate and are extrapolated");
        else if (batch < TinyBatchPerGpu)
            flags.Add($"tiny batch: {batch.ToString(inv)} samples per GPU (under {TinyBatchPerGpu.ToString(inv)}): fixed per-call costs dominate, where the model is least certain");
        var outside = extrapolations.Count(e => e != builtInNote);
        if (profile is null)
            flags.Add("uncalibrated: no profile, every operator at the roofline defaults (see the README's Accuracy section)");
        else if (outside > 0)
            flags.Add($"extrapolated profile: {outside.ToString(inv)} input{(outside == 1 ? "" : "s")} outside what the cost model was fitted on (see the extrapolation lines)");
        return flags;
    }
}
