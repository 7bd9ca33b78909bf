using System.CommandLine;
using Sim.Config;
using Sim.Sharding;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Cli;

/// <summary>`sim torchrec export|import`: carry plans between Sim and TorchRec's sharding plan (JSON).</summary>
internal static class TorchRecCommand
{
    public static Command Create(TextWriter stdout)
    {
        var cmd = new Command("torchrec", "Convert sharding plans to and from TorchRec's plan format (JSON of ParameterSharding per table).");
        cmd.Subcommands.Add(Export(stdout));
        cmd.Subcommands.Add(Import(stdout));
        return cmd;
    }

    private static (Argument<string> Topology, Argument<string> Workload) Inputs() =>
        (new Argument<string>("topology") { Description = "cluster description" }, new Argument<string>("workload") { Description = "model description" });

    private static Command Export(TextWriter stdout)
    {
        var (topology, workload) = Inputs();
        var plan = new Argument<string>("plan") { Description = "Sim plan (YAML/JSON)" };
        var output = new Option<string?>("--out") { Description = "write the TorchRec JSON here instead of standard output" };
        var cmd = new Command("export", "Write a Sim plan as a TorchRec sharding plan.") { topology, workload, plan, output };
        cmd.SetAction(r =>
        {
            var s = Scenario.Load(r.GetValue(topology)!, r.GetValue(workload)!, r.GetValue(plan));
            var json = TorchRecPlan.Export(s.Plan, s.Cluster);
            if (r.GetValue(output) is { } path) { AtomicFile.WriteAllText(path, json + "\n"); stdout.WriteLine($"TorchRec plan written to {path}"); }
            else stdout.WriteLine(json);
            return 0;
        });
        return cmd;
    }

    private static Command Import(TextWriter stdout)
    {
        var (topology, workload) = Inputs();
        var file = new Argument<string>("torchrec-plan") { Description = "TorchRec sharding plan (JSON)" };
        var output = new Option<string?>("--out") { Description = "write the Sim plan (YAML) here instead of standard output" };
        var cmd = new Command("import", "Read a TorchRec sharding plan into a Sim plan, checking it against the cluster and the workload.") { topology, workload, file, output };
        cmd.SetAction(r =>
        {
            var cluster = TopologyLoader.Load(r.GetValue(topology)!);
            var model = WorkloadLoader.Load(r.GetValue(workload)!);
            var plan = TorchRecPlan.Import(r.GetValue(file)!, model, cluster);
            MemoryModel.EnsureFits(cluster, MemoryModel.PerRank(cluster, model, plan), YamlDocument.DisplayName(r.GetValue(file)!));
            var yaml = PlanLoader.ToYaml(plan);
            if (r.GetValue(output) is { } path) { AtomicFile.WriteAllText(path, yaml); stdout.WriteLine($"Sim plan written to {path}"); }
            else stdout.Write(yaml);
            return 0;
        });
        return cmd;
    }
}
