using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using CsCheck;

namespace Sim.Tests.Fuzz;

/// <summary>
/// Drives one format: case i mutates a seed with the edits CsCheck draws from PCG(stream i, seed), so every case is
/// reproducible on its own. Settings (environment): SIM_FUZZ_SEED (default <see cref="DefaultSeed"/>),
/// SIM_FUZZ_CASES (cases per format, replacing each test's default), SIM_FUZZ_OUT (a folder: failing inputs and one
/// input per distinct error message are written there as corpus candidates, named for tests/Sim.Tests/corpus).
/// </summary>
public static partial class Fuzzer
{
    public const ulong DefaultSeed = 20261127;

    public static ulong Seed => ulong.TryParse(Environment.GetEnvironmentVariable("SIM_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : DefaultSeed;

    public static int Cases(int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable("SIM_FUZZ_CASES"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : fallback;

    /// <summary>The mutant of case <paramref name="index"/> (deterministic in the seed, the format and the index).</summary>
    public static Mutant Case(FuzzFormat format, int index)
    {
        var gen = Mutations.Mutant(format.Seeds.Count, format.Json);
        var pcg = new PCG((uint)index, Seed + (ulong)FuzzFormat.All.ToList().IndexOf(format) * 1_000_003UL);
        return gen.Generate(pcg, null, out _);
    }

    public sealed record Summary(int Cases, int Ok, int Errors, int DistinctErrors, IReadOnlyList<string> Failures, IReadOnlyList<(double Seconds, string Case)> Slowest);

    /// <summary>Runs <paramref name="cases"/> mutants; every fourth also goes through the slower readers.</summary>
    public static Summary Run(FuzzFormat format, int cases)
    {
        var outDir = Environment.GetEnvironmentVariable("SIM_FUZZ_OUT");
        var failures = new List<string>();
        var shapes = new HashSet<string>(StringComparer.Ordinal);
        int ok = 0, errors = 0;
        var times = new List<(double, string)>();
        for (var i = 0; i < cases; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var mutant = Case(format, i);
            var seed = format.Seeds[mutant.Seed];
            var input = mutant.Apply(seed.Bytes);
            try
            {
                foreach (var outcome in format.Check(input, seed, thorough: i % 4 == 0))
                {
                    if (outcome == "ok") { ok++; continue; }
                    errors++;
                    if (shapes.Add(Shape(outcome)) && outDir is not null)
                        Save(outDir, format, seed, $"e{i:D5}", input, outcome);
                }
            }
            catch (ContractViolation e)
            {
                failures.Add($"case {i} ({seed.Label}; {mutant}): {e.Message}");
                if (outDir is not null) Save(outDir, format, seed, $"f{i:D5}", input, e.Message);
            }
            times.Add((clock.Elapsed.TotalSeconds, $"case {i} ({seed.Label}; {mutant})"));
        }
        return new Summary(cases, ok, errors, shapes.Count, failures, [.. times.OrderByDescending(t => t.Item1).Take(5)]);
    }

    /// <summary>An error message with its specifics (positions, numbers, quoted text) blanked: one per kind of error.</summary>
    public static string Shape(string error) =>
        Digits().Replace(Quoted().Replace(error.Replace("error: ", "", StringComparison.Ordinal), "'_'"), "0");

    [GeneratedRegex(@"[0-9]+(\.[0-9]+)?")] private static partial Regex Digits();
    [GeneratedRegex(@"'[^']*'")] private static partial Regex Quoted();

    private static void Save(string outDir, FuzzFormat format, FuzzSeed seed, string label, byte[] input, string why)
    {
        var dir = Path.Combine(outDir, format.Name);
        Directory.CreateDirectory(dir);
        var name = seed.CorpusName($"{seed.Label}-{label}", format.Extension);
        File.WriteAllBytes(Path.Combine(dir, name), input);
        File.AppendAllText(Path.Combine(dir, "index.txt"), $"{name}\t{why.Split('\n')[0]}\n", Encoding.UTF8);
    }
}
