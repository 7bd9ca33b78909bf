using Sim.Calibration;
using Sim.Config;
using Sim.Workload;
using Sim.Measurements;

namespace Sim.Traces;

/// <summary>
/// Profiler traces as the measurements calibration and validation already read: a trace's operator calls become a
/// microbenchmark record (fitted by the same <see cref="OperatorFitter"/>), a set of rank traces of one plan becomes
/// an end-to-end run (judged by the same <see cref="Validator"/>). Versions a trace does not record read "unknown".
/// </summary>
internal static class TraceMeasurements
{
    public const string Unknown = "unknown";

    public static MeasurementFile Micro(KinetoTrace t, TraceOperators ops, string stack, string commandLine)
    {
        var m = new Measurement(MeasurementJson.SchemaVersion, MeasurementKinds.Micro, Provenance(t, t.WorldSize ?? 1, stack, commandLine), [], MeasurementStatus.Ok,
            Micro: new MicroResults(0, 1, Collectives: ops.Collectives.Count > 0 ? ops.Collectives : null, Operators: ops.Operators));
        return new MeasurementFile(t.File, m);
    }

    /// <param name="traces">One trace per rank of one run, in rank order.</param>
    public static MeasurementFile Run(IReadOnlyList<KinetoTrace> traces, string topologyPath, string workloadPath, string planPath,
        string stack, string optimizer, string commandLine)
    {
        var inputs = new[] { MeasurementInput.FromFile("topology", topologyPath), MeasurementInput.FromFile("workload", workloadPath), MeasurementInput.FromFile("plan", planPath) };
        var workload = WorkloadLoader.Load(workloadPath);
        var world = traces.Count;
        var e2e = TracePhases.Measure(traces, workload.GlobalBatchSize);
        var settings = new RunSettings(inputs[0].Name, inputs[1].Name, inputs[2].Name, world, workload.GlobalBatchSize, workload.GlobalBatchSize / Math.Max(world, 1),
            0, e2e.MeasuredIterations, 0, 0, optimizer, "fp32");
        var m = new Measurement(MeasurementJson.SchemaVersion, MeasurementKinds.Run, Provenance(traces[0], world, stack, commandLine), inputs, MeasurementStatus.Ok,
            settings, e2e);
        return new MeasurementFile(string.Join(" + ", traces.Select(t => t.File)), m);
    }

    /// <summary>Orders a run's rank traces by the rank each records, and refuses gaps, repeats and mixed GPUs.</summary>
    public static IReadOnlyList<KinetoTrace> RankOrder(IReadOnlyList<KinetoTrace> traces)
    {
        if (traces.Count == 1) return traces;
        var missing = traces.FirstOrDefault(t => t.Rank is null);
        if (missing is not null)
            throw new SimInputException(missing.File, "distributedInfo.rank", "missing: with several traces, each must say which rank it is (torch.distributed initialised before profiling)");
        var ordered = traces.OrderBy(t => t.Rank).ToList();
        for (var i = 0; i < ordered.Count; i++)
            if (ordered[i].Rank != i)
                throw new SimInputException(ordered[i].File, "distributedInfo.rank", $"ranks of the traces are {string.Join(", ", ordered.Select(t => t.Rank))}: expected 0..{ordered.Count - 1}, one trace each");
        return ordered;
    }

    private static MeasurementProvenance Provenance(KinetoTrace t, int gpus, string stack, string commandLine)
    {
        if (t.Kernels.Count == 0)
            throw new SimInputException(t.File, "traceEvents", "no GPU kernels: profile with torch.profiler.ProfilerActivity.CUDA on a GPU");
        var gpu = t.Gpu?.Name ?? throw new SimInputException(t.File, "deviceProperties", "missing: which GPU ran the trace is unknown (PyTorch 1.13+ writes it)");
        return new MeasurementProvenance("cuda", gpu, gpus, Unknown, t.CudaVersion ?? Unknown, Unknown, t.NcclVersion ?? Unknown, Unknown,
            "none", "none", "", "", commandLine, stack);
    }
}
