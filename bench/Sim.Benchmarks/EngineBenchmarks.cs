using BenchmarkDotNet.Attributes;
using Sim.Cost;
using Sim.Engine;
using Sim.Iterations;
using Sim.Predictions;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Benchmarks;

/// <summary>
/// The event engine on one DLRM iteration of `sim bench`'s scenario (topologies/zionex-256node.yaml, 2,048 GPUs, with
/// workloads/synthetic-1000-tables.yaml), with and without the fabric graph: flow-level contention, max-min rates.
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmarks
{
    private Cluster _cluster = null!;
    private Cluster _flat = null!;
    private IterationGraph _graph = null!;
    private IterationGraph _flatGraph = null!;
    private CostParameters _cost = null!;

    [GlobalSetup]
    public void Setup()
    {
        _cluster = TopologyLoader.Load(Repo.Path("topologies/zionex-256node.yaml"));
        _flat = _cluster with { Fabric = null };
        var workload = WorkloadLoader.Load(Repo.Path("workloads/synthetic-1000-tables.yaml"));
        var predictor = Predictor.ForWorkload(workload);
        _cost = predictor.CostFor(_cluster);
        var plan = Scenario.MakePlan(_cluster, workload, "greedy", "synthetic-1000-tables.yaml", predictor);
        _graph = predictor.Graph(new Scenario(_cluster, workload, plan));
        _flatGraph = predictor.Graph(new Scenario(_flat, workload, plan));
    }

    [Benchmark(Description = "EventEngine.Run, pod and spine graph")]
    public EngineRun Fabric() => EventEngine.Run(_cluster, _graph, _cost);

    [Benchmark(Description = "EventEngine.Run, flat network")]
    public EngineRun Flat() => EventEngine.Run(_flat, _flatGraph, _cost);
}
