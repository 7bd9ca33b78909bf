using System.CommandLine;
using Sim.Config;

namespace Sim.Cli;

/// <summary>The `sim` command: a thin layer that parses, calls the library and renders.</summary>
internal static class SimApp
{
    /// <summary>Exit code for bad input (files, fields, plans that do not fit).</summary>
    public const int BadInput = 2;
    /// <summary>Exit code for a bug in Sim itself; the message asks for a report instead of showing a stack trace.</summary>
    public const int InternalError = 70;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("Sim: predicts, explains and plans distributed DLRM training on GPU clusters.");
        root.Subcommands.Add(PredictCommand.Create(stdout));
        root.Subcommands.Add(PlanCommand.Create(stdout));
        root.Subcommands.Add(TopologyCommand.Create(stdout));
        root.Subcommands.Add(CollectiveCommand.Create(stdout));
        root.Subcommands.Add(BenchCommand.Create(stdout));
        root.Subcommands.Add(ScaleBenchCommand.Create(stdout));
        root.Subcommands.Add(SweepCommand.Create(stdout, stderr));
        root.Subcommands.Add(CapacityCommand.Create(stdout));
        root.Subcommands.Add(ReportCommand.Create(stdout));
        root.Subcommands.Add(TorchRecCommand.Create(stdout));
        root.Subcommands.Add(CalibrateCommand.Calibrate(stdout));
        root.Subcommands.Add(CalibrateCommand.Validate(stdout));
        root.Subcommands.Add(WorkloadCommand.Create(stdout));
        root.Subcommands.Add(ReproduceCommand.Create(stdout, stderr));
        root.Subcommands.Add(SchemaCommand.Create(stdout));
        root.Subcommands.Add(ExportCommand.Create(stdout));
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        try
        {
            var parsed = root.Parse(args);
            if (parsed.Errors.Count > 0)
            {
                // One line, exit 2: the parser's own report prints each error twice above the whole help text.
                var messages = parsed.Errors.Select(e => System.Text.RegularExpressions.Regex.Replace(e.Message, @"\s+", " ").Trim().TrimEnd('.')).Distinct().ToList();
                stderr.WriteLine($"error: {string.Join("; ", messages)} (see '{CommandPath(parsed.CommandResult)} --help')");
                return BadInput;
            }
            return parsed.Invoke(config);
        }
        catch (SimInputException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A file that cannot be read or written (a missing folder, no permission, a full disk) is the user's to fix.
            stderr.WriteLine($"error: {e.Message.ReplaceLineEndings(" ")}");
            return BadInput;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"internal error: {e.GetType().Name}: {e.Message} (this is a bug in Sim; please report it with the input files)");
            return InternalError;
        }
    }

    private static string CommandPath(System.CommandLine.Parsing.CommandResult r)
    {
        var names = new List<string>();
        for (System.CommandLine.Parsing.SymbolResult? x = r; x is not null; x = x.Parent)
            if (x is System.CommandLine.Parsing.CommandResult c) names.Add(c.Command is RootCommand ? "sim" : c.Command.Name);
        names.Reverse();
        return string.Join(' ', names);
    }
}
