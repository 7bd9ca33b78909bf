using BenchmarkDotNet.Attributes;
using Sim.Iterations;
using Sim.Predictions;
using Sim.Sweep;

namespace Sim.Benchmarks;

/// <summary>
/// One analytical sweep row of workloads/sweeps/bench-128gpu-100tables.yaml (128 GPUs, 100 tables) and its parts:
/// pricing the cached iteration shape, the block-by-block longest path, the report, the whole row. The plan is made
/// in the set-up, as a sweep shares it between rows.
/// </summary>
[MemoryDiagnoser]
public class SweepRowBenchmarks
{
    private SweepInputs _inputs = null!;
    private SweepEvaluator _evaluator = null!;
    private SweepPoint _point = null!;
    private Scenario _scenario = null!;
    private IterationGraph _graph = null!;
    private Timeline _timeline = null!;
    private long[] _memory = null!;

    [GlobalSetup]
    public void Setup()
    {
        var spec = SweepLoader.Load(Repo.Path("workloads/sweeps/bench-128gpu-100tables.yaml"));
        _inputs = SweepInputs.Load(spec);
        _evaluator = new SweepEvaluator(_inputs);
        _point = SweepExpansion.Expand(spec, _inputs, PredictionMode.Analytical).First(p => p.Overlap);
        _scenario = _evaluator.ScenarioFor(_point, out var memory);
        _memory = memory.Select(m => m.TotalBytes).ToArray();
        _graph = _inputs.Predictor.Graph(_scenario);
        _timeline = Timeline.Analytical(_graph);
    }

    [Benchmark(Description = "IterationGraph.Build (cached shape)")]
    public IterationGraph PriceGraph() => _inputs.Predictor.Graph(_scenario);

    [Benchmark(Description = "Timeline.Analytical")]
    public Timeline LongestPath() => Timeline.Analytical(_graph);

    [Benchmark(Description = "Prediction.From")]
    public Prediction Report() => Prediction.From(PredictionMode.Analytical, _scenario, _timeline, _memory, "benchmark");

    [Benchmark(Description = "SweepEvaluator.Evaluate (whole row, plan cached)")]
    public SweepRow Row() => _evaluator.Evaluate(_point);

    [Benchmark(Description = "SweepExpansion.Key (SHA-256)")]
    public string Key() => SweepExpansion.Key(_inputs.Fingerprint, _point);
}
