namespace Sim.Traces;

/// <summary>
/// A host-side event of a PyTorch profiler (Kineto) trace: an ATen or autograd operator (`cpu_op`) or a
/// `record_function` range (`user_annotation`). Times are microseconds as the trace writes them.
/// </summary>
/// <param name="Thread">The host thread ("pid/tid"): operators nest only within one thread.</param>
/// <param name="ExternalId">Kineto's link from a kernel to the operator that launched it.</param>
/// <param name="SequenceNumber">Autograd's link from a backward node to the forward operator that made it.</param>
/// <param name="InputDims">The operator's input shapes as the trace writes them (`record_shapes=True`), raw JSON.</param>
/// <param name="InputTypes">The operator's input dtypes, raw JSON.</param>
internal sealed record CpuOp(
    string Name,
    string Thread,
    double StartMicros,
    double DurationMicros,
    long? ExternalId,
    long? SequenceNumber,
    string? InputDims,
    string? InputTypes,
    TraceCollective? Collective,
    bool IsAnnotation)
{
    public double EndMicros => StartMicros + DurationMicros;
}

/// <summary>Device-side work: a kernel, or a copy or memset the device ran.</summary>
internal sealed record GpuKernel(
    string Name,
    GpuWorkKind Kind,
    double StartMicros,
    double DurationMicros,
    long? ExternalId,
    long? Correlation,
    int Device,
    string Stream,
    TraceCollective? Collective)
{
    public double EndMicros => StartMicros + DurationMicros;
}

internal enum GpuWorkKind { Kernel, Memcpy, Memset }

/// <summary>
/// What PyTorch's `record_param_comms` (and NCCL kernels in newer traces) record of a collective call.
/// </summary>
/// <param name="Name">"allreduce", "all_to_all", "all_to_allv", "allgather", "reduce_scatter", ... as torch names it.</param>
/// <param name="InElements">Elements this rank sends in (`In msg nelems`).</param>
/// <param name="Ranks">The process group's ranks as written ("[0, 1]"), when recorded.</param>
internal sealed record TraceCollective(string Name, long InElements, long OutElements, int GroupSize, string Dtype, string? Ranks);

/// <summary>The GPU a trace ran on (`deviceProperties`).</summary>
internal sealed record TraceGpu(string Name, long TotalMemoryBytes, int Multiprocessors);
