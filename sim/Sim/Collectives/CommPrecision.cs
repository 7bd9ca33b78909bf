using Sim.Cost;
using Sim.Hardware;
using Sim.Nccl;
using Sim.Workload;

namespace Sim.Collectives;

/// <summary>
/// The wire format of a collective's payload. Payload sizes are counted in FP32 bytes (the data before
/// compression); a reduced format sends fewer bytes but pays a quantise pass before and a dequantise pass
/// after, each a streaming kernel over HBM. Row-wise formats add a per-row scale (and bias) to every row,
/// as FBGEMM's quantised communication does.
/// </summary>
internal sealed record CommPrecision(DType DType, double BytesPerElement, double RowOverheadBytes)
{
    public const double Fp32BytesPerElement = 4;

    public static readonly CommPrecision Fp32 = new(DType.Fp32, 4, 0);
    public static readonly CommPrecision Fp16 = new(DType.Fp16, 2, 0);
    public static readonly CommPrecision Bf16 = new(DType.Bf16, 2, 0);
    /// <summary>FP8 row-wise: one FP32 scale per row (assumed layout, unverified).</summary>
    public static readonly CommPrecision Fp8RowWise = new(DType.Fp8, 1, 4);
    /// <summary>INT8 row-wise: FP32 scale and bias per row (FBGEMM fused 8-bit row-wise layout [S]).</summary>
    public static readonly CommPrecision Int8RowWise = new(DType.Int8, 1, 8);

    public static IReadOnlyDictionary<string, CommPrecision> Words { get; } = new Dictionary<string, CommPrecision>
    {
        ["fp32"] = Fp32, ["fp16"] = Fp16, ["bf16"] = Bf16, ["fp8"] = Fp8RowWise, ["int8"] = Int8RowWise,
    };

    public string Name => DType.Name();
    public bool IsFullPrecision => DType == DType.Fp32;

    /// <summary>Wire bytes per FP32 payload byte, with rows of <paramref name="rowElements"/> elements.</summary>
    public double WireFactor(int rowElements) =>
        (BytesPerElement * rowElements + RowOverheadBytes) / (Fp32BytesPerElement * rowElements);

    /// <summary>
    /// Time to quantise <paramref name="inputBytes"/> (read FP32, write the wire format) and dequantise
    /// <paramref name="outputBytes"/> (the reverse), both in FP32 bytes, as two streaming kernels on the
    /// GPU's HBM. Zero for FP32.
    /// </summary>
    public double CodecSeconds(double inputBytes, double outputBytes, int rowElements, GpuSpec gpu, CostParameters p)
    {
        if (IsFullPrecision) return 0;
        var f = WireFactor(rowElements);
        var streamed = (inputBytes + outputBytes) * (1 + f);
        return 2 * p.KernelOverheadSeconds + streamed / (gpu.HbmBytesPerSecond * p.MemoryEfficiency);
    }

    /// <summary>
    /// FP32 bytes each rank encodes and decodes for an op with payload <paramref name="bytes"/> (nccl-tests
    /// size): only what crosses links is compressed. All-to-all encodes the n−1 pieces it sends and decodes
    /// the n−1 it receives (its own piece stays as is); a ring reduce-scatter encodes and decodes one chunk
    /// per step, (n−1)/n of the buffer each way; all-gather encodes its own chunk once and decodes the
    /// others; all-reduce is a reduce-scatter then an all-gather.
    /// </summary>
    public static (double Encoded, double Decoded) CodecBytes(CollectiveOp op, double bytes, int ranks)
    {
        var others = bytes * (ranks - 1) / ranks;
        return op switch
        {
            CollectiveOp.AllGather => (bytes / ranks, others),
            CollectiveOp.AllReduce => (others + bytes / ranks, 2 * others),
            _ => (others, others),
        };
    }
}
