namespace Sim.Tests;

/// <summary>The CLI contract: argument errors are one line on stderr and exit 2, naming the command's --help.</summary>
public class CliContractTests
{
    [Theory]
    [InlineData(new[] { "predict" }, "Required argument missing", "sim predict --help")]
    [InlineData(new[] { "nosuch" }, "Unrecognized command or argument 'nosuch'", "sim --help")]
    [InlineData(new string[0], "Required command was not provided", "sim --help")]
    [InlineData(new[] { "sweep", "merge" }, "Required argument missing", "sim sweep merge --help")]
    [InlineData(new[] { "predict", "a.yaml", "b.yaml", "--mode", "foo" }, "Argument 'foo' not recognized", "sim predict --help")]
    [InlineData(new[] { "collective", "t.yaml", "--bytes" }, "Required argument missing for option: '--bytes'", "sim collective --help")]
    public void Argument_errors_are_one_line_and_exit_2(string[] args, string problem, string help)
    {
        var r = CliRunner.Run(args);
        Assert.Equal(2, r.ExitCode);
        var line = r.Stderr.TrimEnd('\n');
        Assert.DoesNotContain('\n', line);
        Assert.StartsWith("error: ", line);
        Assert.Contains(problem, line);
        Assert.Contains($"(see '{help}')", line);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void Help_is_not_an_error()
    {
        var r = CliRunner.Run("predict", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Usage:", r.Stdout);
    }
}
