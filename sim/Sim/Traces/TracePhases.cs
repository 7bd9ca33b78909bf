using Sim.Config;
using Sim.Iterations;
using Sim.Measurements;

namespace Sim.Traces;

/// <summary>
/// One iteration's phases as a set of rank traces measured them: the `record_function` ranges named after Sim's
/// phases (<see cref="Phases.All"/>, as the reference runner writes them in its profiled iterations, which wait for the
/// device at each phase's end) give each phase's wall time per rank and iteration, and the kernels inside a range
/// its device-busy time.
/// </summary>
internal static class TracePhases
{
    /// <summary>The end-to-end result of the traced iterations, in the form a run's measurement has.</summary>
    /// <param name="traces">One trace per rank, in rank order.</param>
    public static EndToEndResult Measure(IReadOnlyList<KinetoTrace> traces, long globalBatch)
    {
        var perRank = traces.Select(Windows).ToList();
        var n = perRank.Min(w => w.Count);
        if (n == 0)
            throw new SimInputException(traces[0].File, "traceEvents",
                $"no iteration with all of Sim's phase ranges ({string.Join(", ", Phases.All)}): record each phase with torch.profiler.record_function (as validation/reference/dlrm_reference.py --trace does)");
        var samples = new List<IterationSample>();
        for (var i = 0; i < n; i++)
        {
            var phases = Phases.All.Select((_, p) => perRank.Max(w => w[i].Phases[p])).ToList();
            var seconds = perRank.Max(w => w[i].Seconds);
            samples.Add(new IterationSample(seconds, phases.Sum(), Math.Max(0, seconds - phases.Sum()), phases, 0));
        }
        var stats = Phases.All.Select((name, p) => Stat(name, samples.Select(s => s.Phases[p]).ToList())).ToList();
        var it = TimeStats.Of(samples.Select(s => s.Seconds).ToList());
        var busy = Phases.All.Select((_, p) => Median(Enumerable.Range(0, n).Select(i => perRank.Max(w => w[i].Busy[p])).ToList())).ToList();
        return new EndToEndResult(n, stats, it, TimeStats.Of(samples.Select(s => s.GpuBusy).ToList()), TimeStats.Of(samples.Select(s => s.HostOverhead).ToList()),
            it.Median > 0 ? TimeStats.Of(samples.Select(s => s.HostOverhead).ToList()).Median / it.Median : 0,
            it.Median > 0 ? globalBatch / it.Median : 0,
            perRank.Select(w => (IReadOnlyList<double>)Phases.All.Select((_, p) => Median(w.Take(n).Select(x => x.Phases[p]).ToList())).ToList()).ToList(),
            samples, busy);
    }

    private sealed record Iteration(double Seconds, double[] Phases, double[] Busy);

    /// <summary>A rank's iterations: the i-th range of every phase makes iteration i.</summary>
    private static List<Iteration> Windows(KinetoTrace t)
    {
        var ranges = Phases.All.Select(p => t.Ops.Where(o => o.IsAnnotation && o.Name == p).OrderBy(o => o.StartMicros).ToList()).ToList();
        var n = ranges.Min(r => r.Count);
        var kernels = t.Kernels.OrderBy(k => k.StartMicros).ToList();
        var result = new List<Iteration>();
        for (var i = 0; i < n; i++)
        {
            var w = ranges.Select(r => r[i]).ToList();
            var start = w.Min(o => o.StartMicros);
            var end = w.Max(o => o.EndMicros);
            result.Add(new Iteration((end - start) * 1e-6, w.Select(o => o.DurationMicros * 1e-6).ToArray(), w.Select(o => Busy(kernels, o) * 1e-6).ToArray()));
        }
        return result;
    }

    /// <summary>Microseconds the device ran work whose middle falls in the range (overlapping kernels counted once).</summary>
    private static double Busy(List<GpuKernel> sorted, CpuOp range)
    {
        double total = 0, curStart = double.NaN, curEnd = double.NaN;
        foreach (var k in sorted)
        {
            var mid = k.StartMicros + k.DurationMicros / 2;
            if (mid < range.StartMicros || mid > range.EndMicros) continue;
            if (double.IsNaN(curEnd) || k.StartMicros > curEnd)
            {
                if (!double.IsNaN(curEnd)) total += curEnd - curStart;
                (curStart, curEnd) = (k.StartMicros, k.EndMicros);
            }
            else curEnd = Math.Max(curEnd, k.EndMicros);
        }
        return double.IsNaN(curEnd) ? total : total + curEnd - curStart;
    }

    private static PhaseStats Stat(string name, List<double> v) { var s = TimeStats.Of(v); return new PhaseStats(name, s.Median, s.Min, s.Max); }
    private static double Median(List<double> v) => TimeStats.Of(v).Median;
}
