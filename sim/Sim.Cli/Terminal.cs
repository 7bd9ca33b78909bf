using Spectre.Console;

namespace Sim.Cli;

/// <summary>A Spectre console over a writer; wide when redirected so that tables never wrap in files and pipes.</summary>
internal static class Terminal
{
    public static IAnsiConsole For(TextWriter writer)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
        if (writer != Console.Out || Console.IsOutputRedirected) console.Profile.Width = 240;
        return console;
    }
}
