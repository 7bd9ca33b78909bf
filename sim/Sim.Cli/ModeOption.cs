using System.CommandLine;
using Sim.Predictions;
using Sim.Profiles;

namespace Sim.Cli;

/// <summary>The options every predicting command shares: `--mode analytical|event` and `--profile FILE`.</summary>
internal static class ModeOption
{
    /// <summary>`--mode`, accepting only the words of <see cref="PredictionModes"/>; analytical unless <paramref name="optional"/>.</summary>
    public static Option<string?> Create(string description, bool optional = false)
    {
        var mode = new Option<string?>("--mode") { Description = description };
        if (!optional) mode.DefaultValueFactory = _ => PredictionMode.Analytical.Word();
        mode.AcceptOnlyFromAmong([.. PredictionModes.Words]);
        return mode;
    }

    public static PredictionMode Parse(string? word) => PredictionModes.Parse(word ?? PredictionMode.Analytical.Word());

    /// <summary>`--profile`: a calibration profile (from `sim calibrate`) that every prediction of the command uses.</summary>
    public static Option<string?> Profile() =>
        new("--profile") { Description = "calibration profile (sim calibrate): fitted cost parameters, measured collective curves and an error band" };

    /// <summary>The predictor of a profile file, or the uncalibrated defaults when none is given.</summary>
    public static Predictor Predictor(string? profilePath, string? stack = null) =>
        Predictions.Predictor.For(profilePath is null ? null : CalibrationProfileJson.Read(profilePath), stack);

    /// <summary>
    /// The stack asked for: --stack, else the workload file's <c>stack:</c> (null when the file cannot be read yet: the
    /// scenario's loading then reports that, in its own order).
    /// </summary>
    public static string? StackFor(string? option, string workloadPath)
    {
        if (option is not null) return option;
        try { return Workload.WorkloadLoader.Load(workloadPath).Stack; }
        catch (Config.SimInputException) { return null; }
    }

    /// <summary>`--stack`: the software stack whose operator models price the prediction (overrides the workload's `stack:`).</summary>
    public static Option<string?> Stack()
    {
        var o = new Option<string?>("--stack")
        {
            Description = "software stack: eager (PyTorch eager, the default), fused (FBGEMM/TorchRec-style), or a measured stack " +
                          "(pytorch-eager, harness-eager, harness-fused); overrides the workload's stack:",
        };
        o.AcceptOnlyFromAmong("eager", "fused", "pytorch-eager", "harness-eager", "harness-fused");
        return o;
    }

}
