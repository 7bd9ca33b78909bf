using System.CommandLine;
using System.Globalization;
using Sim.Conditions;
using Sim.Config;

namespace Sim.Cli;

/// <summary>
/// The options that put a prediction under non-ideal conditions (issue 21): a conditions file, and options for each
/// part that replace the file's part. Parsed into one <see cref="OperatingConditions"/>.
/// </summary>
internal sealed class ConditionsOptions
{
    public Option<string?> File { get; } = new("--conditions")
    {
        Description = "conditions file (YAML): seed, iterations, stragglers, jitter, background, degrade; the options below replace its parts (topologies/overlays/)",
    };
    public Option<string?> Stragglers { get; } = new("--stragglers")
    {
        Description = "slow GPUs: compute of a rank or of every rank of a node takes FACTOR times as long, e.g. \"rank:3=2.0,node:1=1.5\"",
    };
    public Option<string?> Jitter { get; } = new("--jitter")
    {
        Description = "compute jitter per task and iteration, mean 1: lognormal:SIGMA, e.g. lognormal:0.05; the prediction becomes a distribution over --iterations",
    };
    public Option<string?> Background { get; } = new("--background")
    {
        Description = "background load of other jobs, a fraction of each link per tier (scale-out, intra-node, nvlink, pcie, cpu, nic, leaf, spine), " +
                      "e.g. \"scale-out=0.3\"; or another job's stream between node groups, nodes:FIRST-LAST>FIRST-LAST=GBPS (Gb/s in all), " +
                      "e.g. \"nodes:0-3>8-11=400\"; event mode only (analytical says it cannot see it)",
    };
    public Option<string?> Degrade { get; } = new("--degrade")
    {
        Description = "degraded-hardware overlay (YAML, `degrade:` entries taking a link, NIC, switch down or to a fraction of its speed), " +
                      "e.g. topologies/overlays/zionex-16node-spine-down.yaml; routing re-plans around it (event mode)",
    };
    public Option<int?> Iterations { get; } = new("--iterations")
    {
        Description = $"iterations simulated under jitter (default {OperatingConditions.DefaultIterations}); p50/p90/p99 are over these",
    };
    public Option<ulong?> Seed { get; } = new("--seed")
    {
        Description = $"seed of the jitter draws (default {OperatingConditions.DefaultSeed}); the same seed gives the same distribution",
    };

    public IEnumerable<Option> All => [File, Stragglers, Jitter, Background, Degrade, Iterations, Seed];

    public OperatingConditions Parse(ParseResult r)
    {
        var c = r.GetValue(File) is { } path ? ConditionsLoader.Load(path) : OperatingConditions.None;
        if (r.GetValue(Stragglers) is { } s) c = c with { Stragglers = c.Stragglers with { Fixed = Conditions.Stragglers.Parse(s) } };
        if (r.GetValue(Jitter) is { } j) c = c with { Stragglers = c.Stragglers with { Jitter = Conditions.Jitter.Parse(j) } };
        if (r.GetValue(Background) is { } b) c = c with { Background = BackgroundLoad.Parse(b) };
        if (r.GetValue(Degrade) is { } d) c = c with { Degrade = ConditionsLoader.LoadDegrade(d) };
        if (r.GetValue(Iterations) is { } n)
        {
            if (n < 1 || n > OperatingConditions.MaxIterations)
                throw new SimInputException("--iterations", "", $"must be between 1 and {OperatingConditions.MaxIterations.ToString("N0", CultureInfo.InvariantCulture)}, found {n}");
            c = c with { Iterations = n };
        }
        if (r.GetValue(Seed) is { } seed) c = c with { Seed = seed };
        return c;
    }
}
