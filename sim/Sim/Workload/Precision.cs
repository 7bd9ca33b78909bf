using Sim.Hardware;
namespace Sim.Workload;

/// <summary>Dtypes of dense compute and of each collective (reduced-precision communication).</summary>
public sealed record Precision(DType Compute, DType AllToAllForward, DType AllToAllBackward, DType AllReduce, DType Index)
{
    public static readonly Precision Fp32 = new(DType.Fp32, DType.Fp32, DType.Fp32, DType.Fp32, DType.Int64);
}
