using System.Globalization;
using Sim.Interop.Chakra;

namespace Sim.Tests;

/// <summary>`sim export chakra` from the command line: the shipped inputs, the folder rules and bad input.</summary>
public class ChakraCliTests
{
    [Fact]
    public void Without_a_plan_it_plans_as_predict_does_and_writes_a_trace_per_gpu()
    {
        using var dir = new Fixtures.TempDir();
        var et = Path.Combine(dir.Path, "et");
        var r = CliRunner.Run("export", "chakra", Fixtures.Repo("topologies/zionex-16node.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"), "--out", et);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(128, Directory.GetFiles(et, "iteration.*.et").Length);
        Assert.True(File.Exists(Path.Combine(et, ChakraExport.NetworkFile)));
        Assert.Contains("--workload-configuration=" + Path.Combine(et, "iteration"), r.Stdout);

        // The traces price the iteration `sim predict` prices: the same analytical time.
        var p = CliRunner.Run("predict", Fixtures.Repo("topologies/zionex-16node.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"), "--json");
        Assert.True(p.ExitCode == 0, p.Stderr);
        using var json = System.Text.Json.JsonDocument.Parse(p.Stdout);
        var predicted = json.RootElement.GetProperty("iteration_seconds").GetDouble();
        var line = r.Stdout.Split('\n').Single(l => l.StartsWith("Sim's iteration (analytical): ", StringComparison.Ordinal));
        var exported = double.Parse(line.Split(": ")[1].TrimEnd(" s\r".ToCharArray()), CultureInfo.InvariantCulture);
        Assert.Equal(predicted, exported, 1e-6);
    }

    [Fact]
    public void A_folder_with_files_is_refused_unless_forced_and_force_replaces_only_an_earlier_export()
    {
        using var dir = new Fixtures.TempDir();
        var topo = dir.Write("topo.yaml", Fixtures.TopologyYaml(2, 4));
        var work = dir.Write("work.yaml", Fixtures.WorkloadYaml);
        var et = Path.Combine(dir.Path, "et");
        Directory.CreateDirectory(et);
        File.WriteAllText(Path.Combine(et, "notes.txt"), "mine");
        File.WriteAllText(Path.Combine(et, "iteration.99.et"), "stale");

        var refused = CliRunner.Run("export", "chakra", topo, work, "--out", et);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("--out", refused.Stderr);
        Assert.Contains("--force", refused.Stderr);
        Assert.DoesNotContain('\n', refused.Stderr.TrimEnd('\n'));
        Assert.False(File.Exists(Path.Combine(et, "iteration.0.et")));

        var forced = CliRunner.Run("export", "chakra", topo, work, "--out", et, "--force");
        Assert.True(forced.ExitCode == 0, forced.Stderr);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(et, "notes.txt")));
        Assert.False(File.Exists(Path.Combine(et, "iteration.99.et")));
        Assert.Equal(8, Directory.GetFiles(et, "iteration.*.et").Length);
    }

    [Fact]
    public void Bad_input_is_one_line_naming_the_file_and_exit_2()
    {
        using var dir = new Fixtures.TempDir();
        var topo = dir.Write("topo.yaml", Fixtures.TopologyYaml(2, 4));
        var bad = dir.Write("work.yaml", Fixtures.WorkloadYaml.Replace("batch_size: 1024", "batch_size: -5"));
        var r = CliRunner.Run("export", "chakra", topo, bad, "--out", Path.Combine(dir.Path, "et"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("work.yaml", r.Stderr);
        Assert.Contains("batch_size", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain('\n', r.Stderr.TrimEnd('\n'));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "et")));

        var file = dir.Write("taken", "x");
        var onFile = CliRunner.Run("export", "chakra", topo, dir.Write("ok.yaml", Fixtures.WorkloadYaml), "--out", file);
        Assert.Equal(2, onFile.ExitCode);
        Assert.Contains("--out", onFile.Stderr);
    }

    [Fact]
    public void A_cluster_astra_sim_cannot_express_still_gets_its_traces_and_says_why_no_network()
    {
        using var dir = new Fixtures.TempDir();
        var et = Path.Combine(dir.Path, "et");
        var r = CliRunner.Run("export", "chakra", Fixtures.Repo("topologies/zion.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"), "--out", et);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("hybrid cube mesh", r.Stdout);
        Assert.False(File.Exists(Path.Combine(et, ChakraExport.NetworkFile)));
        Assert.NotEmpty(Directory.GetFiles(et, "iteration.*.et"));
    }

    [Fact]
    public void Help_names_the_folder_and_the_files()
    {
        var r = CliRunner.Run("export", "chakra", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("--out", r.Stdout);
        Assert.Contains("--force", r.Stdout);
        Assert.Contains("iteration.RANK.et", r.Stdout);
    }
}
