using Sim.Config;
using Sim.Sharding;
using Sim.Topology;
using Sim.Workload;
using Sim.Measurements;

namespace Sim.Calibration;

/// <summary>
/// Rebuilds the (Cluster, Workload, Plan) a run measured from the file contents it embeds, so that a
/// measurement can be predicted even after the files in the repository have changed. Files too large to
/// embed are read from the repository by name and must still match the recorded SHA-256.
/// </summary>
internal static class ScenarioFromMeasurement
{
    public static Scenario Load(Measurement m, string measurementFile)
    {
        string Text(string role)
        {
            var input = m.Inputs.FirstOrDefault(i => i.Role == role)
                ?? throw new SimInputException(measurementFile, "inputs", $"the run does not record its {role} file");
            if (input.Content is not null) return input.Content;
            if (!File.Exists(input.Name))
                throw new SimInputException(measurementFile, "inputs", $"{role} file '{input.Name}' is not embedded and not found");
            var bytes = File.ReadAllBytes(input.Name);
            var sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
            if (sha != input.Sha256)
                throw new SimInputException(measurementFile, "inputs", $"{role} file '{input.Name}' changed since it was measured (SHA-256 differs)");
            return System.Text.Encoding.UTF8.GetString(bytes);
        }
        string Name(string role) => $"{measurementFile}#{role}";
        var cluster = TopologyLoader.Parse(Text("topology"), Name("topology"));
        var workload = WorkloadLoader.Parse(Text("workload"), Name("workload"));
        // A run may train with another optimizer than its workload file names (harness/reference --optimizer).
        if (m.Run?.Optimizer is { } opt && Optimizers.Words.TryGetValue(opt, out var o) && o != workload.Optimizer)
            workload = workload with { Optimizer = o };
        var plan = PlanLoader.Parse(Text("plan"), Name("plan"), workload, cluster);
        return new Scenario(cluster, workload, plan);
    }
}
