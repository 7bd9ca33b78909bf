using Sim.Cli;

namespace Sim.Tests;

/// <summary>Runs the `sim` command in-process and captures what a user would see.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Result Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = SimApp.Run(args, o, e);
        return new Result(code, o.ToString(), e.ToString());
    }
}
