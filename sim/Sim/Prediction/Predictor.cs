using Sim.Conditions;
using Sim.Cost;
using Sim.Engine;
using Sim.Sharding;
using Sim.Iterations;
using Sim.Profiles;

namespace Sim.Predictions;

/// <summary>A prediction with what made it: the timeline, and for event mode the engine's run (flows, counters).</summary>
public sealed record PredictionRun(Prediction Prediction, Timeline Timeline, EngineRun? Engine);

/// <summary>
/// The one entry point from (cluster, workload, plan) to a <see cref="Prediction"/>, in either <see cref="PredictionMode"/>.
/// It holds the cost parameters every task is priced with: the built-in defaults, or a calibration profile's, applied
/// here (<see cref="For(CalibrationProfile?)"/>) and nowhere else, so both modes, planners, sweeps, capacity searches and
/// validation see the same calibration. Both modes price tasks from the same <see cref="IterationGraph"/>; the event
/// engine also honours the profile's measured collective curves (<see cref="EventEngine"/>).
/// </summary>
public sealed class Predictor
{
    /// <summary>The uncalibrated defaults (<see cref="CostParameters.Default"/>).</summary>
    public static readonly Predictor Uncalibrated = new(CostParameters.Default);

    public CostParameters Cost { get; }

    /// <summary>The profile's iteration error band, reported with every prediction; null when uncalibrated.</summary>
    public double? ErrorBand { get; }

    /// <summary>The profile the parameters came from (null: uncalibrated, or parameters given as they are).</summary>
    public CalibrationProfile? Profile { get; private init; }

    /// <summary>The software stack asked for (eager, fused, or a measured stack's name).</summary>
    public string Stack { get; private init; } = DefaultStack;

    /// <summary>The stack most users run, and so the default: PyTorch eager.</summary>
    public const string DefaultStack = "eager";

    /// <summary>A predictor with these parameters as they are (calibration's fitters try candidates this way).</summary>
    public Predictor(CostParameters cost, double? errorBand = null)
    {
        Cost = cost; ErrorBand = errorBand;
    }

    /// <summary>The stack whose operator models price this prediction, in words.</summary>
    public string StackUsed => Cost.Operators is { } o ? $"{o.MeasuredStack} ({o.Form}, fitted)" : $"{Stack} (roofline defaults: no fitted operator models)";

    /// <summary>
    /// The predictor of a calibration profile (its fitted parameters, the operator models of <paramref name="stack"/>,
    /// and its error band), or the defaults for none.
    /// </summary>
    /// <remarks>
    /// Without a profile, an eager stack is priced by the built-in operator models (<see cref="BuiltInProfile"/>: measured
    /// on one H200, moved to the cluster's card by spec ratios), a fused one by the roofline defaults.
    /// </remarks>
    public static Predictor For(CalibrationProfile? profile, string? stack = null)
    {
        if (profile is not null)
            return new Predictor(profile.ToCostParameters(stack), profile.IterationErrorBand) { Profile = profile, Stack = stack ?? DefaultStack };
        if (Sim.Cost.Operators.SoftwareStacks.FormOf(stack ?? DefaultStack) == Sim.Cost.Operators.SoftwareStack.Eager)
        {
            var builtIn = BuiltInProfile.Value;
            return new Predictor(builtIn.ToCostParameters(stack)) { Profile = builtIn, Stack = stack ?? DefaultStack, BuiltIn = true };
        }
        return stack is null ? Uncalibrated : new Predictor(CostParameters.Default) { Stack = stack };
    }

    /// <summary>The stack's default when the workload names none and no profile is given.</summary>
    public static Predictor ForWorkload(Workload.DlrmWorkload w) => For(null, w.Stack);

    /// <summary>Whether the profile is the built-in one (no --profile was given).</summary>
    public bool BuiltIn { get; private init; }

    // Parameters transferred to each other card this predictor has been asked about (sweeps share a predictor across threads).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CostParameters> _transferred = new(StringComparer.Ordinal);

    /// <summary>
    /// The parameters for a cluster: the profile's, transferred to the cluster's card when the profile was measured on
    /// another one (<see cref="CalibrationProfile.ToCostParameters(string?, Hardware.GpuSpec)"/>).
    /// </summary>
    public CostParameters CostFor(Topology.Cluster c) =>
        Profile?.Transfer(c.Gpu) is null ? Cost : _transferred.GetOrAdd(c.Gpu.Model, _ => Profile.ToCostParameters(Stack, c.Gpu) with { Source = Cost.Source });

    /// <summary>The same profile with another stack's operator models.</summary>
    public Predictor WithStack(string stack) => BuiltIn || Profile is null ? For(null, stack) : For(Profile, stack);

    public Prediction Predict(Scenario s, PredictionMode mode) => Run(s, mode).Prediction;

    /// <param name="recordFlows">event mode: keep every network flow (for traces).</param>
    /// <param name="memory">per-GPU bytes when the caller has computed them already.</param>
    /// <param name="conditions">stragglers, jitter, background load and degraded hardware (null: the ideal cluster).</param>
    /// <remarks>
    /// Under conditions, the prediction's phases and critical path are those of the iteration with the fixed straggler
    /// factors and no jitter; with jitter, <see cref="Prediction.Distribution"/> holds the <see cref="OperatingConditions.SampleCount"/>
    /// iterations simulated, each with its own seeded draws.
    /// </remarks>
    public PredictionRun Run(Scenario s, PredictionMode mode, bool recordFlows = false, IReadOnlyList<long>? memory = null, OperatingConditions? conditions = null)
    {
        conditions ??= OperatingConditions.None;
        var ideal = s;
        if (conditions.Degrade is { } overlay)
        {
            s = s with { Cluster = s.Cluster with { Overlay = overlay } };
            // In both modes: an overlay that names nothing, or cuts a GPU off, is an error whichever mode would price it.
            s.Cluster.BuildGraph();
        }
        var cost = CostFor(s.Cluster);
        var built = Graph(s, cost);
        var fixedFactors = conditions.Stragglers.FactorsPerRank(s.Cluster);
        var graph = fixedFactors is null ? built : built.WithComputeScaled(t => fixedFactors[t.Rank]);
        Func<Topology.NetworkLink, double>? share = conditions.Background.Fractions.Count == 0 ? null : conditions.Background.ShareOf;
        var streams = conditions.Background.Streams.SelectMany(x => x.On(s.Cluster)).ToList();
        EngineRun? Simulate(IterationGraph g, bool record) =>
            mode == PredictionMode.Event ? EventEngine.Run(s.Cluster, g, cost, record, capacityShare: share, streams: streams) : null;
        var run = Simulate(graph, recordFlows);
        var timeline = run?.Timeline ?? Timeline.Analytical(graph);
        var prediction = Prediction.From(mode, ideal, timeline, memory ?? Memory(s), Cost.Source);
        if (ErrorBand is { } band) prediction = prediction with { ErrorBand = band };
        var extrapolations = Extrapolations.Of(Profile, s.Cluster, s.Workload, s.Plan, Stack);
        var builtInNote = BuiltIn ? $"no --profile: the built-in operator models of {Profile!.Domain?.Card ?? Profile.Card} ({BuiltInProfile.Name}); calibrate on your own machine for a measured profile" : null;
        if (builtInNote is not null) extrapolations = [builtInNote, .. extrapolations];
        prediction = prediction with
        {
            Stack = StackUsed, Extrapolations = extrapolations,
            OutOfModel = Predictions.OutOfModel.Of(built, Profile, extrapolations, builtInNote),
        };
        if (!conditions.IsNone)
            prediction = prediction with
            {
                Conditions = conditions.Describe().ToList(),
                Distribution = Sample(built, fixedFactors, conditions, prediction, g => Simulate(g, false)?.Timeline ?? Timeline.Analytical(g)) is var d
                    ? d with { PacingWhere = d.PacingRank >= 0 ? s.Cluster.DescribeRank(d.PacingRank) : "none", Seed = conditions.Seed } : null,
                Notes = ConditionNotes(conditions, mode, cost).ToList(),
                BusiestLink = run?.BusiestLink,
            };
        return new PredictionRun(prediction, timeline, run);
    }

    /// <summary>The iterations under jitter (or the one iteration without), with the rank that paced each.</summary>
    private static IterationDistribution Sample(IterationGraph built, double[]? fixedFactors, OperatingConditions c,
        Prediction nominal, Func<IterationGraph, Timeline> simulate)
    {
        if (c.Stragglers.Jitter is not { } jitter)
            return IterationDistribution.Of([nominal.IterationSeconds], [IterationDistribution.PacingRankOf(nominal.CriticalPath)]);
        var seconds = new double[c.SampleCount];
        var pacing = new int[c.SampleCount];
        for (var i = 0; i < seconds.Length; i++)
        {
            var iteration = i;
            var t = simulate(built.WithComputeScaled(task => (fixedFactors?[task.Rank] ?? 1) * jitter.Factor(c.Seed, iteration, task.Id)));
            seconds[i] = t.End;
            pacing[i] = IterationDistribution.PacingRankOf(CriticalPath.Walk(t));
        }
        return IterationDistribution.Of(seconds, pacing);
    }

    /// <summary>What the chosen mode cannot see of the conditions, said next to the number rather than left silent.</summary>
    private static IEnumerable<string> ConditionNotes(OperatingConditions c, PredictionMode mode, CostParameters cost)
    {
        if (mode == PredictionMode.Analytical && !c.Background.IsNone)
            yield return "analytical mode prices an empty fabric and does not see the background load or streams; use --mode event";
        if (mode == PredictionMode.Analytical && c.Degrade is not null)
            yield return "analytical mode prices collectives from the topology's tier speeds and does not see the degraded links (it only checks the overlay); use --mode event";
        if (mode == PredictionMode.Event && cost.CollectiveFits.Count > 0 && (!c.Background.IsNone || c.Degrade is not null))
            yield return "measured collective curves give the healthy, empty fabric's time; the lost capacity slows their scaled flows on top (see docs/ARCHITECTURE.md)";
    }

    /// <summary>Only the analytical iteration time: what planners and sweep benchmarks call thousands of times.</summary>
    public double IterationSeconds(Scenario s) => Timeline.Analytical(Graph(s)).End;

    /// <summary>The iteration's task graph priced as both modes price it (what `sim export chakra` writes out).</summary>
    public IterationGraph Graph(Scenario s) => Graph(s, CostFor(s.Cluster));

    private static IterationGraph Graph(Scenario s, CostParameters cost) => IterationGraph.Build(s.Cluster, s.Workload, s.Plan, cost);

    /// <summary>Bytes each GPU holds (<see cref="MemoryModel"/>).</summary>
    public static long[] Memory(Scenario s) =>
        MemoryModel.PerRank(s.Cluster, s.Workload, s.Plan).Select(m => m.TotalBytes).ToArray();
}
