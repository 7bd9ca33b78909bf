using Sim.Collectives;
using Sim.Cost;
using Sim.Topology;
using Sim.Iterations;

namespace Sim.Engine;

/// <summary>
/// A calibration profile's measured collective curves (<see cref="CostParameters.CollectiveFits"/>) in the event engine.
/// Where the profile measured this op at this GPU count, the collective's flows (bytes and latencies) and its fixed
/// overhead are scaled by <see cref="Scale"/>: the measured over the link model's seconds of its slowest rank (both from
/// the closed forms the analytical path uses, <see cref="CollectiveCost"/> and <see cref="CollectiveModel"/>).
/// Uncontended, the collective then takes the measured curve's time, as in analytical mode; contention the engine
/// finds on top slows it as it would the link model's flows. A rank whose own measured time is longer still is
/// stretched to it (<see cref="Stretch"/>).
/// </summary>
internal sealed class MeasuredCollectives
{
    private readonly double[] _measured;
    private readonly double[] _model;
    private readonly double _hostSeconds;

    /// <summary>Measured over link-model seconds of the slowest rank: what the flows' bytes and latencies are multiplied by.</summary>
    public double Scale { get; }

    private MeasuredCollectives(double[] measured, double[] model, double hostSeconds)
    {
        _measured = measured; _model = model; _hostSeconds = hostSeconds;
        var (m, l) = (measured.DefaultIfEmpty(0).Max(), model.DefaultIfEmpty(0).Max());
        Scale = m > 0 && l > 0 ? m / l : 1;
    }

    /// <summary>The measured curve of one collective, or null where the profile measured no such collective (the link model stands).</summary>
    public static MeasuredCollectives? For(Cluster c, CostParameters p, CollectiveSpec spec)
    {
        if (p.CollectiveFits.Count == 0) return null;
        var op = spec.Kind == CollectiveKind.AllToAll ? CollectiveCost.AllToAllOp : CollectiveCost.AllReduceOp;
        if (p.Fit(op, c.WorldSize) is null) return null;
        if (spec.Kind == CollectiveKind.AllToAll)
            return new MeasuredCollectives(CollectiveCost.AllToAllPerRank(c, p, spec.Demand!), CollectiveModel.AllToAllPerRank(c, p, spec.Demand!), spec.HostSeconds);
        var measured = CollectiveCost.AllReduceSeconds(c, p, spec.Bytes);
        var model = CollectiveModel.AllReduceSeconds(c, p, spec.Bytes);
        return new MeasuredCollectives(Enumerable.Repeat(measured, c.WorldSize).ToArray(), Enumerable.Repeat(model, c.WorldSize).ToArray(), spec.HostSeconds);
    }

    /// <summary>
    /// A rank's part (already run on scaled flows) lengthened where its own measured time is longer than the scaled
    /// link model gives it; the host work before the exchange is not scaled. Never shortened (time cannot run back).
    /// </summary>
    public double Stretch(int rank, double elapsedSeconds)
    {
        var network = elapsedSeconds - _hostSeconds;
        if (network <= 0) return elapsedSeconds;
        var scaledModel = _model[rank] * Scale;
        var ratio = scaledModel > 0 ? _measured[rank] / scaledModel : double.PositiveInfinity;
        return ratio > 1 ? _hostSeconds + (double.IsInfinity(ratio) ? Math.Max(network, _measured[rank]) : network * ratio) : elapsedSeconds;
    }
}
