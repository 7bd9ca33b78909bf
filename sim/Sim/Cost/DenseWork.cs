using Sim.Hardware;
using Sim.Workload;
using Sim.Workload.Ops;

namespace Sim.Cost;

/// <summary>
/// Dense compute of one rank's local batch, forward and backward: every operator of
/// <see cref="DlrmWorkload.DenseOperators"/> (MLPs, interaction, DCN-v2 cross layers, conv1d, LSTM, TSL), each
/// kernel priced by roofline (<see cref="ComputeCost.GemmSeconds"/>; kernels without FLOPs by
/// <see cref="ComputeCost.StreamSeconds"/>) plus a launch overhead per sequential launch.
/// </summary>
internal static class DenseWork
{
    public static double ForwardSeconds(GpuSpec gpu, CostParameters p, DlrmWorkload w, double localBatch) =>
        Remembered(gpu, p, w, localBatch, forward: true);

    /// <summary>Backward: per layer the input gradient (b x out · out x in) and the weight gradient (in x b · b x out); twice the interaction.</summary>
    public static double BackwardSeconds(GpuSpec gpu, CostParameters p, DlrmWorkload w, double localBatch) =>
        Remembered(gpu, p, w, localBatch, forward: false);

    /// <summary>Once per workload instance and <see cref="DenseKey"/>: a sweep's rows share interned workloads and vary the network.</summary>
    private static double Remembered(GpuSpec gpu, CostParameters p, DlrmWorkload w, double localBatch, bool forward) =>
        IdentityMemo<DlrmWorkload, DenseKey, double>.Get(Memo, w, new DenseKey(gpu, p, localBatch, forward), (gpu, p, w, localBatch, forward),
            static s => Seconds(s.gpu, s.p, s.w, s.localBatch, s.forward));

    /// <summary>What <see cref="Seconds"/> reads besides the workload; keep it in step with that method.</summary>
    private readonly record struct DenseKey(GpuSpec Gpu, CostParameters Cost, double LocalBatch, bool Forward);

    private static readonly IdentityMemo<DlrmWorkload, DenseKey, double>.Table Memo = new();

    /// <summary>Forward seconds of the interaction (dot: a batched F x d by d x F product per sample; DCN-v2: the cross layers).</summary>
    public static double InteractionSeconds(GpuSpec gpu, CostParameters p, DlrmWorkload w, double localBatch)
    {
        double t = 0;
        foreach (var o in w.DenseOperators)
            if (o.Stage == DenseStage.Interaction) t += OpSeconds(gpu, p, w.Precision.Compute, o, localBatch, forward: true);
        return t;
    }

    /// <summary>Seconds of one placed operator for a local batch (its rows are the batch times its runs per sample).</summary>
    public static double OpSeconds(GpuSpec gpu, CostParameters p, DType dt, StackedOp o, double localBatch, bool forward)
    {
        var rows = localBatch * o.RowsPerSample;
        var kernels = forward ? o.Op.Forward(rows, dt.Bytes()) : o.Op.Backward(rows, dt.Bytes());
        double t = 0;
        foreach (var k in kernels) t += KernelSeconds(gpu, p, dt, k);
        return t;
    }

    /// <summary>One kernel by roofline, plus the overhead of every launch after the first.</summary>
    public static double KernelSeconds(GpuSpec gpu, CostParameters p, DType dt, KernelWork k)
    {
        var s = k.Flops > 0 ? ComputeCost.GemmSeconds(gpu, p, dt, k.Flops, k.Bytes) : ComputeCost.StreamSeconds(gpu, p, k.Bytes);
        return k.Launches > 1 ? s + (k.Launches - 1) * p.KernelOverheadSeconds : s;
    }

    /// <summary>Optimizer step over replicated parameters: read param and grad, write param, plus state traffic.</summary>
    public static double OptimizerSeconds(GpuSpec gpu, CostParameters p, Optimizer opt, double parameters) =>
        ComputeCost.StreamSeconds(gpu, p, parameters * (3 * 4 + 2 * opt.StateBytesPerDenseParameter()));

    // The tower's MLP layers are summed first, then the interaction, then everything else: for a plain DLRM this is
    // the order (and so the exact floating-point result) of the original MLP + interaction model.
    private static double Seconds(GpuSpec gpu, CostParameters p, DlrmWorkload w, double localBatch, bool forward)
    {
        var dt = w.Precision.Compute;
        var ops = w.DenseOperators;
        double mlp = 0, interaction = 0, rest = 0;
        foreach (var o in ops)
        {
            var s = OpSeconds(gpu, p, dt, o, localBatch, forward);
            switch (o.Stage)
            {
                case DenseStage.Bottom or DenseStage.Top: mlp += s; break;
                case DenseStage.Interaction: interaction += s; break;
                default: rest += s; break;
            }
        }
        return mlp + interaction + rest;
    }
}
