using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Sim.Config;
using Sim.Traces;
using Spectre.Console;
using Sim.Profiles;

namespace Sim.Cli;

/// <summary>
/// The `--trace` options of `sim calibrate` and `sim validate`: PyTorch profiler traces read into the measurements
/// those commands already take, and the report of what each trace held (mapped and unmapped device time).
/// </summary>
internal static class TraceInputs
{
    public static Option<string[]> TraceOption(string what) => new("--trace")
    {
        Description = what, AllowMultipleArgumentsPerToken = true, Arity = ArgumentArity.ZeroOrMore,
    };

    public static Option<string?> StackOption() => new("--stack")
    {
        Description = "the software stack the traces ran (pytorch-eager, harness-eager, harness-fused, or your own name ending in -eager or -fused: " +
                      "fused stacks fold the sparse optimizer into the embedding backward, as FBGEMM does); default pytorch-eager",
    };

    public static Option<string> OptimizerOption() => new("--optimizer")
    {
        Description = "the embedding tables' optimizer in the traces (sgd, rowwise_adagrad, ...)", DefaultValueFactory = _ => "sgd",
    };

    /// <summary>Reads the files (folders: every *.json and *.json.gz in them), saying each as it goes on stderr.</summary>
    public static IReadOnlyList<KinetoTrace> Read(IEnumerable<string> paths)
    {
        var files = InputPaths.Files(paths, "*.json", "*.json.gz").ToList();
        var traces = new List<KinetoTrace>();
        foreach (var f in files)
        {
            var t = KinetoReader.Read(f);
            Console.Error.WriteLine($"read {t.File}: {t.Ops.Count} host operators, {t.Kernels.Count} kernels" + (t.Rank is { } r ? $", rank {r}" : ""));
            traces.Add(t);
        }
        return traces;
    }

    public static string StackOf(string? stack)
    {
        var s = stack ?? Cost.Operators.MeasurementStacks.PytorchEager;
        if (!s.EndsWith("-eager", StringComparison.Ordinal) && !s.EndsWith("-fused", StringComparison.Ordinal))
            throw new SimInputException("--stack", "", $"'{s}' must end in -eager or -fused (the form Sim prices it by)");
        return s;
    }

    /// <summary>Per trace: where its device time went in Sim's operators, the largest unmapped kernels, and notes.</summary>
    public static void Report(KinetoTrace t, TraceOperators ops, TextWriter stdout)
    {
        var inv = CultureInfo.InvariantCulture;
        var total = ops.MappedSeconds + ops.UnmappedSeconds;
        stdout.WriteLine($"{t.File}: {t.Gpu?.Name ?? "unknown GPU"}, {ops.Operators.Count} operator call(s) with shapes, {ops.Collectives.Count} collective(s); " +
                         $"device time {Units.Seconds(total)}, unmapped {Units.Seconds(ops.UnmappedSeconds)} ({(total > 0 ? ops.UnmappedSeconds / total : 0).ToString("P1", inv)})");
        var table = new Table().AddColumns("work", "kernels", "device time", "share");
        foreach (var c in table.Columns.Skip(1)) c.RightAligned();
        foreach (var m in ops.Mapped)
            table.AddRow(Markup.Escape(m.What), m.Kernels.ToString(inv), Units.Seconds(m.Seconds), (m.Seconds / total).ToString("P1", inv));
        foreach (var m in ops.Unmapped.Take(UnmappedShown))
            table.AddRow(Markup.Escape("unmapped: " + m.What), m.Kernels.ToString(inv), Units.Seconds(m.Seconds), (m.Seconds / total).ToString("P1", inv));
        if (ops.Unmapped.Count > UnmappedShown)
        {
            var rest = ops.Unmapped.Skip(UnmappedShown).ToList();
            table.AddRow($"unmapped: {rest.Count} other kernel name(s)", rest.Sum(m => m.Kernels).ToString(inv), Units.Seconds(rest.Sum(m => m.Seconds)), (rest.Sum(m => m.Seconds) / total).ToString("P1", inv));
        }
        Terminal.For(stdout).Write(table);
        foreach (var n in ops.Notes) stdout.WriteLine("note: " + n);
    }

    private const int UnmappedShown = 8;

    /// <summary>One trace's report as JSON: GPU, calls with shapes, and device time per operator and per unmapped kernel.</summary>
    public static JsonObject Json(KinetoTrace t, TraceOperators ops) => new()
    {
        ["file"] = t.File, ["gpu"] = t.Gpu?.Name, ["rank"] = t.Rank, ["operator_calls"] = ops.Operators.Count, ["collectives"] = ops.Collectives.Count,
        ["mapped_seconds"] = ops.MappedSeconds, ["unmapped_seconds"] = ops.UnmappedSeconds,
        ["mapped"] = JsonOutput.Array(ops.Mapped, m => Time(m)), ["unmapped"] = JsonOutput.Array(ops.Unmapped, m => Time(m)),
        ["notes"] = JsonOutput.Array(ops.Notes, n => n),
    };

    private static JsonObject Time(TraceTime m) => new() { ["what"] = m.What, ["kernels"] = m.Kernels, ["seconds"] = m.Seconds };

    /// <summary>The operator models of the stack that the traces left without a fit (they fall back to the roofline).</summary>
    public static List<string> NotFitted(CalibrationProfile profile, string stack, string optimizer)
    {
        var m = profile.Operators?.FirstOrDefault(o => o.MeasuredStack == stack);
        if (m is null) return ["every operator model of " + stack];
        var missing = new List<string>();
        if (!m.EmbeddingBackward.ContainsKey(optimizer)) missing.Add($"embedding backward with {optimizer} (no backward call with shapes)");
        foreach (var op in new[] { Cost.Operators.OperatorNames.LinearForward, Cost.Operators.OperatorNames.LinearBackward, Cost.Operators.OperatorNames.InteractionForward, Cost.Operators.OperatorNames.InteractionBackward })
            if (m.Shapes?.ContainsKey(op) != true) missing.Add(op.Replace('_', ' '));
        if (m.Gemm.Count == 0) missing.Add("GEMM grid");
        if (m.DenseOptimizer.Count == 0) missing.Add("dense optimizer (traces give its time, not its parameter count)");
        if (m.KernelIssueSeconds == 0) missing.Add("kernel issue cost and streaming bandwidth (elementwise kernels)");
        return missing;
    }
}
