namespace Sim.Hardware;

/// <summary>Element types for tables, compute and communication.</summary>
public enum DType { Fp32, Tf32, Fp16, Bf16, Fp8, Int8, Int32, Int64 }

public static class DTypes
{
    /// <summary>YAML spelling of each dtype.</summary>
    public static readonly IReadOnlyDictionary<string, DType> Words = new Dictionary<string, DType>
    {
        ["fp32"] = DType.Fp32, ["tf32"] = DType.Tf32, ["fp16"] = DType.Fp16, ["bf16"] = DType.Bf16,
        ["fp8"] = DType.Fp8, ["int8"] = DType.Int8, ["int32"] = DType.Int32, ["int64"] = DType.Int64,
    };

    public static string Name(this DType t) => Words.First(kv => kv.Value == t).Key;

    /// <summary>Storage bytes per element. TF32 is stored as FP32.</summary>
    public static int Bytes(this DType t) => t switch
    {
        DType.Fp32 or DType.Tf32 or DType.Int32 => 4,
        DType.Fp16 or DType.Bf16 => 2,
        DType.Fp8 or DType.Int8 => 1,
        DType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };
}
