using Sim.Hardware;
using Sim.Workload;

namespace Sim.Cost;

/// <summary>Dense compute of one rank's local batch: MLPs and the interaction, forward and backward.</summary>
public static class DenseWork
{
    public static double ForwardSeconds(GpuSpec gpu, CostParameters p, DlrmWorkload w, double localBatch)
    {
        var dt = w.Precision.Compute;
        double t = 0;
        foreach (var l in w.DenseLayers)
            t += ComputeCost.MatmulSeconds(gpu, p, dt, localBatch, l.In, l.Out)
                 + ComputeCost.StreamSeconds(gpu, p, 2.0 * localBatch * l.Out * 4); // bias + activation
        return t + InteractionSeconds(gpu, p, w, localBatch);
    }

    /// <summary>Backward: per layer the input gradient (b x out · out x in) and the weight gradient (in x b · b x out).</summary>
    public static double BackwardSeconds(GpuSpec gpu, CostParameters p, DlrmWorkload w, double localBatch)
    {
        var dt = w.Precision.Compute;
        double t = 0;
        foreach (var l in w.DenseLayers)
            t += ComputeCost.MatmulSeconds(gpu, p, dt, localBatch, l.Out, l.In)
                 + ComputeCost.MatmulSeconds(gpu, p, dt, l.In, localBatch, l.Out)
                 + ComputeCost.StreamSeconds(gpu, p, 3.0 * localBatch * l.Out * 4); // activation grad + bias grad
        return t + 2 * InteractionSeconds(gpu, p, w, localBatch);
    }

    /// <summary>Dot interaction: a batched F x d by d x F product per sample.</summary>
    public static double InteractionSeconds(GpuSpec gpu, CostParameters p, DlrmWorkload w, double localBatch)
    {
        double f = w.InteractionVectors, d = w.InteractionDim;
        var flops = localBatch * 2 * f * f * d;
        var bytes = localBatch * (f * d + f * f) * w.Precision.Compute.Bytes();
        return ComputeCost.GemmSeconds(gpu, p, w.Precision.Compute, flops, bytes);
    }

    /// <summary>Optimizer step over replicated parameters: read param and grad, write param, plus state traffic.</summary>
    public static double OptimizerSeconds(GpuSpec gpu, CostParameters p, Optimizer opt, double parameters) =>
        ComputeCost.StreamSeconds(gpu, p, parameters * (3 * 4 + 2 * opt.StateBytesPerDenseParameter()));
}
