using Xunit.Abstractions;

namespace Sim.Tests.Fuzz;

/// <summary>
/// Property: every mutant of every shipped input ends in a prediction with finite numbers or in one `error:` line
/// with exit 2 (see <see cref="Contract"/>). One class per format so that xunit runs the formats in parallel.
/// Case counts (1,350 per run) are sized so the fuzz suite stays within about half a minute on two cores;
/// SIM_FUZZ_CASES and SIM_FUZZ_SEED (see <see cref="Fuzzer"/>) run longer campaigns.
/// </summary>
public abstract class FuzzTestBase(ITestOutputHelper output)
{
    protected void Fuzz(string format, int cases)
    {
        var f = FuzzFormat.Named(format);
        var s = Fuzzer.Run(f, Fuzzer.Cases(cases));
        output.WriteLine($"{format}: {s.Cases} cases from {f.Seeds.Count} seeds, seed {Fuzzer.Seed}: {s.Ok} ok runs, {s.Errors} error runs ({s.DistinctErrors} distinct errors), {s.Failures.Count} failures");
        foreach (var (seconds, c) in s.Slowest) output.WriteLine($"  {seconds:0.00} s: {(c.Length > 300 ? c[..300] + "..." : c)}");
        Assert.True(s.Failures.Count == 0, $"{s.Failures.Count} of {s.Cases} {format} cases broke the contract:\n" + string.Join("\n\n", s.Failures.Take(10)));
    }
}

public class TopologyFuzzTests(ITestOutputHelper o) : FuzzTestBase(o)
{
    [Fact] public void Mutated_topologies_predict_or_fail_in_one_line() => Fuzz("topology", 200);
}

public class WorkloadFuzzTests(ITestOutputHelper o) : FuzzTestBase(o)
{
    [Fact] public void Mutated_workloads_predict_or_fail_in_one_line() => Fuzz("workload", 250);
}

public class PlanFuzzTests(ITestOutputHelper o) : FuzzTestBase(o)
{
    [Fact] public void Mutated_plans_predict_or_fail_in_one_line() => Fuzz("plan", 300);
}

public class SweepFuzzTests(ITestOutputHelper o) : FuzzTestBase(o)
{
    [Fact] public void Mutated_sweeps_run_or_fail_in_one_line() => Fuzz("sweep", 50);
}

public class MeasurementFuzzTests(ITestOutputHelper o) : FuzzTestBase(o)
{
    [Fact] public void Mutated_measurements_validate_or_fail_in_one_line() => Fuzz("measurement", 100);
}

public class TorchRecFuzzTests(ITestOutputHelper o) : FuzzTestBase(o)
{
    [Fact] public void Mutated_torchrec_plans_import_or_fail_in_one_line() => Fuzz("torchrec", 250);
}

public class ProfileFuzzTests(ITestOutputHelper o) : FuzzTestBase(o)
{
    [Fact] public void Mutated_calibration_profiles_predict_or_fail_in_one_line() => Fuzz("profile", 200);
}

/// <summary>
/// The corpus: inputs that once broke the contract or exercise a distinct error, replayed through every reader of
/// their format. Files live in corpus/FORMAT/ named TOPOLOGY~WORKLOAD~LABEL.EXT (see <see cref="FuzzSeed"/>).
/// </summary>
public class CorpusTests
{
    public static TheoryData<string, string> Files()
    {
        var data = new TheoryData<string, string>();
        var root = Fixtures.Repo("tests/Sim.Tests/corpus");
        foreach (var f in FuzzFormat.All)
        {
            var dir = Path.Combine(root, f.Name);
            if (!Directory.Exists(dir)) continue;
            foreach (var file in Directory.GetFiles(dir, "*" + f.Extension).Order(StringComparer.Ordinal))
                data.Add(f.Name, Path.GetFileName(file));
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Corpus_input_keeps_the_contract(string format, string file)
    {
        var f = FuzzFormat.Named(format);
        var seed = FuzzSeed.FromCorpusFile(Fixtures.Repo($"tests/Sim.Tests/corpus/{format}/{file}"));
        f.Check(seed.Bytes, seed, thorough: true);
    }

    [Fact]
    public void Every_format_has_a_corpus()
    {
        foreach (var f in FuzzFormat.All)
            Assert.True(Directory.GetFiles(Fixtures.Repo($"tests/Sim.Tests/corpus/{f.Name}"), "*" + f.Extension).Length > 0, $"no corpus for {f.Name}");
    }
}
