namespace Sim.Tests;

/// <summary>Inputs that are not regular files are read no further than the size limit, and JSON profile errors carry line:col.</summary>
public class BoundedInputTests
{
    [Fact]
    public void An_endless_input_is_refused_in_one_line_not_read_until_memory_runs_out()
    {
        if (!File.Exists("/dev/zero")) return; // not a Unix machine: nothing endless to read
        var r = CliRunner.Run("predict", "/dev/zero", Fixtures.Repo("workloads/dlrm-small.yaml"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("larger than the", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void A_fifo_that_nobody_writes_is_refused_after_the_timeout_not_waited_for_for_ever()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return; // no FIFOs to make
        using var dir = new Fixtures.TempDir();
        var fifo = dir.Path + "/silent.yaml";
        using (var mk = System.Diagnostics.Process.Start("mkfifo", [fifo])) mk.WaitForExit();
        Sim.Config.InputFile.Timeout.Value = 1;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var r = CliRunner.Run("predict", fifo, Fixtures.Repo("workloads/dlrm-small.yaml"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("silent.yaml: no complete input within 1 s", r.Stderr);
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 20);
    }

    [Fact]
    public void A_workload_too_large_to_parse_in_bounded_memory_is_refused_before_it_is_read()
    {
        using var dir = new Fixtures.TempDir();
        var path = dir.Path + "/huge.yaml";
        using (var f = File.Create(path)) f.SetLength(Sim.Config.YamlDocument.MaxFileBytes + 1); // sparse: no disk used
        var r = CliRunner.Run("workload", "describe", path);
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("huge.yaml: file is 16777217 bytes, larger than the 16777216-byte (16 MiB) limit of a Sim input", r.Stderr);
    }

    [Fact]
    public void A_profile_with_a_repeated_key_is_refused_with_its_line_and_column()
    {
        using var dir = new Fixtures.TempDir();
        var text = File.ReadAllText(Fixtures.Repo("validation/profiles/h100x2.json"));
        var card = System.Text.RegularExpressions.Regex.Match(text, "\"card\": \"[^\"]*\"").Value;
        var dup = dir.Write("dup.json", text.Replace(card, card + ",\n  " + card));
        var r = CliRunner.Run("predict", Fixtures.Repo("topologies/h100x2.yaml"), Fixtures.Repo("workloads/validation/val-base.yaml"),
            Fixtures.Repo("validation/plans/val-base.2gpu.rw.yaml"), "--profile", dup);
        Assert.Equal(2, r.ExitCode);
        Assert.Matches(@"dup\.json:\d+:\d+:", r.Stderr);
    }
}

/// <summary>docs/schemas/ holds the JSON Schemas the readers' types define (`sim schema`): they cannot drift apart.</summary>
public class SchemaTests
{
    [Theory]
    [InlineData("measurement")]
    [InlineData("profile")]
    public void The_committed_schema_is_what_the_reader_types_give(string format)
    {
        var r = CliRunner.Run("schema", format);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(File.ReadAllText(Fixtures.Repo($"docs/schemas/{format}.schema.json")), r.Stdout);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
        Assert.Equal("object", doc.RootElement.GetProperty("type").GetString());
    }
}
