using System.Globalization;
using System.Text.Json.Nodes;

namespace Sim.Tests.Fuzz;

/// <summary>A broken promise: the command, what it did, and why that is wrong.</summary>
public sealed class ContractViolation(string message) : Exception(message);

/// <summary>
/// What every `sim` command promises for any input: exit 0 with finite numbers (no NaN or Infinity anywhere in the
/// output), or exit 2 with exactly one stderr line starting `error:`; never exit 70, an escaping exception or a hang.
/// </summary>
public static class Contract
{
    /// <summary>Longest a single command may take on a fuzzed input before it counts as a hang.</summary>
    public static TimeSpan CaseTimeout { get; } = TimeSpan.FromSeconds(30);

    private static readonly string[] NonFinite = ["NaN", "Infinity", "\u221E"];

    /// <summary>Runs `sim ARGS` in-process with a timeout and checks the contract; returns the result for further checks.</summary>
    public static CliRunner.Result Run(params string[] args)
    {
        var task = Task.Factory.StartNew(() => CliRunner.Run(args), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        CliRunner.Result r;
        try
        {
            if (!task.Wait(CaseTimeout)) throw Violation(args, $"no answer within {CaseTimeout.TotalSeconds} s (a hang)");
            r = task.Result;
        }
        catch (AggregateException e)
        {
            throw Violation(args, $"an exception escaped SimApp.Run: {e.InnerException}");
        }
        switch (r.ExitCode)
        {
            case 0:
                // Text output: a non-finite number shows as NaN, Infinity or ∞. An input file holding the same word
                // may be echoed (a name, a source line), so such a word is left to the structured checks of JSON output.
                var inputs = args.Where(a => Path.IsPathRooted(a) && File.Exists(a)).Select(File.ReadAllText).ToList();
                foreach (var bad in NonFinite)
                    if ((r.Stdout.Contains(bad, StringComparison.Ordinal) || r.Stderr.Contains(bad, StringComparison.Ordinal))
                        && !inputs.Any(t => t.Contains(bad, StringComparison.Ordinal)))
                        throw Violation(args, $"exit 0 but the output holds '{bad}':\n{Head(r.Stdout)}{Head(r.Stderr)}");
                break;
            case 2:
                var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
                if (lines.Length != 1 || !lines[0].StartsWith("error: ", StringComparison.Ordinal))
                    throw Violation(args, $"exit 2 needs one stderr line starting 'error: ', found:\n{Head(r.Stderr)}");
                break;
            default:
                throw Violation(args, $"exit {r.ExitCode}:\n{Head(r.Stderr)}");
        }
        return r;
    }

    /// <summary>A prediction (`sim predict --json`): every number finite and non-negative, time and throughput positive.</summary>
    public static void CheckPrediction(string json, params string[] args)
    {
        var o = ParseObject(json, args);
        CheckNumbers(o, "", args);
        foreach (var key in new[] { "iteration_seconds", "samples_per_second" })
            if (!(o[key]?.GetValue<double>() > 0)) throw Violation(args, $"{key} is not positive:\n{Head(json)}");
    }

    /// <summary>`sim collective --json`: finite, non-negative numbers, positive time per row.</summary>
    public static void CheckCollective(string json, params string[] args)
    {
        var o = ParseObject(json, args);
        CheckNumbers(o, "", args);
        foreach (var row in o["rows"]!.AsArray())
            if (!(row!["seconds"]!.GetValue<double>() > 0)) throw Violation(args, "a collective row takes no time");
    }

    /// <summary>A sweep's results: no error rows (a bug inside a sweep becomes an error row), finite positive times.</summary>
    public static void CheckSweep(string database, params string[] args)
    {
        using var store = Sim.Sweep.ResultStore.Open(database, readOnly: true);
        foreach (var row in store.ReadRows())
        {
            if (row.Status == Sim.Sweep.RowStatus.Error)
                throw Violation(args, $"the sweep wrote an error row (an internal failure inside the sweep): {row.Error}");
            if (row.IsOk && !(row.IterationSeconds > 0 && double.IsFinite(row.IterationSeconds.Value) && row.SamplesPerSecond > 0 && double.IsFinite(row.SamplesPerSecond.Value)
                    && row.PhaseSeconds!.All(x => x >= 0 && double.IsFinite(x))))
                throw Violation(args, $"row {row.Key} holds a non-finite or non-positive time");
        }
    }

    /// <summary>Every number in a JSON document is non-negative (JSON itself cannot hold NaN or Infinity).</summary>
    public static void CheckNumbers(JsonNode? n, string path, string[] args)
    {
        switch (n)
        {
            case JsonObject o: foreach (var (k, v) in o) CheckNumbers(v, $"{path}.{k}", args); break;
            case JsonArray a: for (var i = 0; i < a.Count; i++) CheckNumbers(a[i], $"{path}[{i}]", args); break;
            case JsonValue v when v.TryGetValue<double>(out var d):
                if (!double.IsFinite(d) || d < 0) throw Violation(args, $"{path} is {d.ToString(CultureInfo.InvariantCulture)}");
                break;
        }
    }

    private static JsonObject ParseObject(string json, string[] args)
    {
        try { return JsonNode.Parse(json)!.AsObject(); }
        catch (Exception e) { throw Violation(args, $"exit 0 but the output is not a JSON object ({e.Message}):\n{Head(json)}"); }
    }

    public static ContractViolation Violation(string[] args, string what) =>
        new($"sim {string.Join(' ', args.Select(a => Path.IsPathRooted(a) ? Path.GetFileName(a) : a))}: {what}");

    private static string Head(string s) => s.Length <= 2000 ? s : s[..2000] + "...\n";
}
