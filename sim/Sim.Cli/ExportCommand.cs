using System.CommandLine;
using System.Globalization;
using Sim.Interop.Chakra;
using Sim.Iterations;

namespace Sim.Cli;

/// <summary>`sim export chakra TOPOLOGY WORKLOAD [PLAN] --out DIR`: the iteration as MLCommons Chakra traces for ASTRA-sim.</summary>
internal static class ExportCommand
{
    public static Command Create(TextWriter stdout)
    {
        var cmd = new Command("export", "Export Sim's iteration for other tools.");
        cmd.Subcommands.Add(Chakra(stdout));
        return cmd;
    }

    private static Command Chakra(TextWriter stdout)
    {
        var topology = new Argument<string>("topology") { Description = "cluster description (YAML or JSON), e.g. topologies/zionex-16node.yaml" };
        var workload = new Argument<string>("workload") { Description = "model description, e.g. workloads/dlrm-small.yaml" };
        var plan = new Argument<string?>("plan") { Description = "sharding plan; without it the --planner makes one, as sim predict does", Arity = ArgumentArity.ZeroOrOne };
        var planner = new Option<string>("--planner") { Description = "planner used when no plan file is given", DefaultValueFactory = _ => "greedy" };
        planner.AcceptOnlyFromAmong([.. Scenario.Planners]);
        var output = new Option<string>("--out")
        {
            Description = "folder for the traces (created when missing): iteration.RANK.et per rank, and ASTRA-sim's network.yml, " +
                          "system.json, comm_group.json, remote_memory.json beside them",
            Required = true,
        };
        var force = new Option<bool>("--force") { Description = "write into a folder that is not empty, replacing the files of an earlier export (other files are left alone)" };
        var profile = ModeOption.Profile();
        var stack = ModeOption.Stack();
        var cmd = new Command("chakra",
            "Write one MLCommons Chakra execution trace per rank of the iteration Sim simulates (compute nodes with their " +
            "priced durations, collectives with their bytes and communicator group, dependencies), plus ASTRA-sim's " +
            "network, system and communicator-group configs.")
        {
            topology, workload, plan, planner, output, force, profile, stack,
        };
        cmd.SetAction(r =>
        {
            var predictor = ModeOption.Predictor(r.GetValue(profile), ModeOption.StackFor(r.GetValue(stack), r.GetValue(workload)!));
            var scenario = Scenario.Load(r.GetValue(topology)!, r.GetValue(workload)!, r.GetValue(plan), r.GetValue(planner), predictor);
            var graph = predictor.Graph(scenario);
            var folder = r.GetValue(output)!;
            var files = ChakraExport.Write(folder, new ChakraTraceBuilder(graph, scenario.Cluster, scenario.Workload.Name),
                scenario.Cluster, r.GetValue(force));
            var inv = CultureInfo.InvariantCulture;
            stdout.WriteLine($"{files.Traces.Count} Chakra traces written to {folder} ({ChakraExport.TraceFile(0)} .. {ChakraExport.TraceFile(files.Traces.Count - 1)}), " +
                             $"with {ChakraExport.SystemFile}, {ChakraExport.CommGroupFile}, {ChakraExport.RemoteMemoryFile}" +
                             (files.Network is null ? "" : $" and {ChakraExport.NetworkFile}"));
            if (files.NetworkWhyNot is { } why)
                stdout.WriteLine($"no {ChakraExport.NetworkFile}: {why}; write one by hand to run ASTRA-sim");
            stdout.WriteLine($"Sim's iteration (analytical): {Timeline.Analytical(graph).End.ToString("0.######", inv)} s");
            stdout.WriteLine("run with ASTRA-sim's analytical backend (validation/astra-sim/README.md says which version ran these):");
            stdout.WriteLine($"  AstraSim_Analytical_Congestion_Unaware --workload-configuration={Path.Combine(folder, ChakraExport.TracePrefix)} " +
                             $"--system-configuration={Path.Combine(folder, ChakraExport.SystemFile)} " +
                             $"--network-configuration={Path.Combine(folder, ChakraExport.NetworkFile)} " +
                             $"--remote-memory-configuration={Path.Combine(folder, ChakraExport.RemoteMemoryFile)} " +
                             $"--comm-group-configuration={Path.Combine(folder, ChakraExport.CommGroupFile)}");
            return 0;
        });
        return cmd;
    }
}
