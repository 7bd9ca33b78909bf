using Sim.Measurements;

namespace Sim.Tests;

/// <summary>
/// Nothing lost: result files are written to a temporary file and renamed over the target, so a write that fails
/// leaves the previous file whole (and the command ends in one `error:` line, exit 2). The failure is injected by
/// putting a folder where the temporary file goes (tests run as root, so permissions cannot be used).
/// </summary>
public class AtomicWriteTests
{
    private const string Old = "previous result, must survive\n";

    private static void AssertFailedCleanly(CliRunner.Result r)
    {
        Assert.Equal(2, r.ExitCode);
        // A sweep announces its size on stderr before it starts; what follows is the one error line.
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("sweep ", StringComparison.Ordinal)).ToList();
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
    }

    [Fact]
    public void A_trace_that_cannot_be_written_leaves_the_previous_trace_whole()
    {
        using var dir = new Fixtures.TempDir();
        var trace = dir.Write("trace.json", Old);
        Directory.CreateDirectory(trace + ".tmp-" + Environment.ProcessId); // AtomicFile's temporary name
        var r = CliRunner.Run("predict", Fixtures.Repo("topologies/h100x4.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"), "--trace", trace);
        AssertFailedCleanly(r);
        Assert.Equal(Old, File.ReadAllText(trace));
    }

    [Fact]
    public void A_plan_that_cannot_be_written_leaves_the_previous_plan_whole()
    {
        using var dir = new Fixtures.TempDir();
        var plan = dir.Write("plan.yaml", Old);
        Directory.CreateDirectory(plan + ".tmp-" + Environment.ProcessId); // AtomicFile's temporary name
        var r = CliRunner.Run("plan", Fixtures.Repo("topologies/h100x4.yaml"), Fixtures.Repo("workloads/dlrm-small.yaml"), "--out", plan);
        AssertFailedCleanly(r);
        Assert.Equal(Old, File.ReadAllText(plan));
    }

    [Fact]
    public void A_sweep_export_that_cannot_be_written_keeps_the_old_csv_and_the_database()
    {
        using var d = new SweepTests.SweepDir();
        var db = d.Path("r.duckdb");
        var csv = d.Write("r.csv", Old);
        Directory.CreateDirectory(csv + ".tmp-" + Environment.ProcessId); // the export's temporary name
        var r = CliRunner.Run("sweep", d.Sweep, "--out", db, "--threads", "2", "--csv", csv);
        AssertFailedCleanly(r);
        Assert.Equal(Old, File.ReadAllText(csv));
        // The rows were committed before the export: a second run computes nothing and exports them.
        Directory.Delete(csv + ".tmp-" + Environment.ProcessId);
        var again = CliRunner.Run("sweep", d.Sweep, "--out", db, "--threads", "2", "--csv", csv);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Contains("computed 0, already in the database 32", again.Stdout);
        Assert.Equal(33, File.ReadAllLines(csv).Length);
    }

    [Fact]
    public void A_measurement_write_that_fails_leaves_no_temporary_file_and_a_good_one_replaces_whole()
    {
        using var dir = new Fixtures.TempDir();
        var m = MeasurementJson.ReadFile(Fixtures.Repo("validation/runs/2026-11-26-h100x2-run1/e2e-2gpu.json"))[0];
        var file = Path.Combine(dir.Path, "m.json");
        File.WriteAllText(file, Old);
        MeasurementJson.WriteFile(file, m);
        Assert.Equal(MeasurementJson.Write(m) + "\n", File.ReadAllText(file));
        Assert.Equal(m.SchemaVersion, MeasurementJson.ReadFile(file)[0].SchemaVersion);

        var blocked = Path.Combine(dir.Path, "blocked.json");
        Directory.CreateDirectory(blocked); // the rename onto it fails
        Assert.ThrowsAny<IOException>(() => MeasurementJson.WriteFile(blocked, m));
        Assert.True(Directory.Exists(blocked));
        Assert.Equal(["m.json"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order());
    }
}
