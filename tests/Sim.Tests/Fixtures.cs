using Sim.Sharding;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Tests;

/// <summary>Small in-memory inputs, and paths to the shipped example files.</summary>
public static class Fixtures
{
    public static string RepoRoot { get; } = FindRoot();

    public static string Repo(string relative) => Path.Combine(RepoRoot, relative);

    private static string FindRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Sim.sln"))) dir = Path.GetDirectoryName(dir);
        return dir ?? throw new InvalidOperationException("Sim.sln not found above the test binaries");
    }

    public static string TopologyYaml(int nodes = 2, int gpus = 4, double nicBytesPerSecond = 25e9, double hbmBytes = 40e9, double ddrBytes = 1e12) => $@"
name: test-{nodes}x{gpus}
source: test fixture
nodes: {nodes}
gpus_per_node: {gpus}
gpu:
  model: TestGPU
  peak_flops_per_second: {{fp32: 20e12, bf16: 300e12}}
  hbm_bytes: {hbmBytes:R}
  hbm_bytes_per_second: 1.5e12
  source: test
intra_node: {{bytes_per_second: 300e9, latency_seconds: 2e-6, source: test}}
scale_out: {{bytes_per_second: {nicBytesPerSecond:R}, latency_seconds: 5e-6, source: test}}
host: {{ddr_bytes: {ddrBytes:R}, ddr_bytes_per_second: 2e11, source: test}}
";

    public const string WorkloadYaml = @"
name: test-dlrm
source: test fixture
batch_size: 1024
dense_features: 13
bottom_mlp: [64, 32]
top_mlp: [64, 1]
optimizer: rowwise_adagrad
tables:
  - {name: a, rows: 100000, dim: 32, pooling_factor: 10}
  - {name: b, rows: 5000, dim: 32, pooling_factor: 2}
  - {name: c, rows: 800, dim: 32, pooling_factor: 1}
  - {name: d, rows: 20000, dim: 32, pooling_factor: 4}
";

    public static Cluster Cluster(int nodes = 2, int gpus = 4, double nic = 25e9, double hbm = 40e9, double ddr = 1e12) =>
        TopologyLoader.Parse(TopologyYaml(nodes, gpus, nic, hbm, ddr), "test-topology.yaml");

    public static ShardingPlan Greedy(Cluster c, DlrmWorkload w) => Scenario.MakePlan(c, w, "greedy", "test-workload.yaml");

    public static DlrmWorkload Workload(string? yaml = null) => WorkloadLoader.Parse(yaml ?? WorkloadYaml, "test-workload.yaml");

    public static ShardingPlan Plan(string yaml, DlrmWorkload w, Cluster c) => PlanLoader.Parse(yaml, "test-plan.yaml", w, c);

    /// <summary>A scratch folder that is deleted with the test.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("sim-test-").FullName;
        public string Write(string name, string text)
        {
            var p = System.IO.Path.Combine(Path, name);
            File.WriteAllText(p, text);
            return p;
        }
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
