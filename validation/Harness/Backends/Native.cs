using System.Runtime.InteropServices;

namespace Sim.Harness.Backends;

/// <summary>NCCL's 128-byte unique id, passed by value to ncclCommInitRank.</summary>
[StructLayout(LayoutKind.Sequential, Size = 128)]
public unsafe struct NcclUniqueId
{
    public fixed byte Internal[128];
}

/// <summary>
/// P/Invoke of the NCCL entry points the harness needs (libnccl.so.2, found through LD_LIBRARY_PATH on the GPU
/// machine: the PyTorch wheel's nvidia/nccl/lib). Every function returns an ncclResult_t; 0 is success.
/// </summary>
internal static class Nccl
{
    private const string Lib = "libnccl.so.2";

    // ncclDataType_t
    public const int Int8 = 0, Uint8 = 1, Int32 = 2, Uint32 = 3, Int64 = 4, Uint64 = 5, Float16 = 6, Float32 = 7, Float64 = 8, Bfloat16 = 9;
    // ncclRedOp_t
    public const int Sum = 0;

    [DllImport(Lib)] public static extern int ncclGetVersion(out int version);
    [DllImport(Lib)] public static extern int ncclGetUniqueId(out NcclUniqueId uniqueId);
    [DllImport(Lib)] public static extern int ncclCommInitRank(out IntPtr comm, int nranks, NcclUniqueId commId, int rank);
    [DllImport(Lib)] public static extern int ncclCommDestroy(IntPtr comm);
    [DllImport(Lib)] public static extern int ncclCommAbort(IntPtr comm);
    [DllImport(Lib)] public static extern IntPtr ncclGetErrorString(int result);
    [DllImport(Lib)] public static extern IntPtr ncclGetLastError(IntPtr comm);
    [DllImport(Lib)] public static extern int ncclGroupStart();
    [DllImport(Lib)] public static extern int ncclGroupEnd();
    [DllImport(Lib)] public static extern int ncclAllReduce(IntPtr sendbuff, IntPtr recvbuff, nuint count, int datatype, int op, IntPtr comm, IntPtr stream);
    [DllImport(Lib)] public static extern int ncclReduceScatter(IntPtr sendbuff, IntPtr recvbuff, nuint recvcount, int datatype, int op, IntPtr comm, IntPtr stream);
    [DllImport(Lib)] public static extern int ncclAllGather(IntPtr sendbuff, IntPtr recvbuff, nuint sendcount, int datatype, IntPtr comm, IntPtr stream);
    [DllImport(Lib)] public static extern int ncclSend(IntPtr sendbuff, nuint count, int datatype, int peer, IntPtr comm, IntPtr stream);
    [DllImport(Lib)] public static extern int ncclRecv(IntPtr recvbuff, nuint count, int datatype, int peer, IntPtr comm, IntPtr stream);

    public static string ErrorString(int result)
    {
        try { return Marshal.PtrToStringAnsi(ncclGetErrorString(result)) ?? $"ncclResult {result}"; }
        catch (Exception) { return $"ncclResult {result}"; }
    }

    public static string LastError(IntPtr comm)
    {
        try { return Marshal.PtrToStringAnsi(ncclGetLastError(comm)) ?? ""; }
        catch (Exception) { return ""; }
    }

    /// <summary>"2.28.9" from the version code (major*10000 + minor*100 + patch since NCCL 2.9).</summary>
    public static string Version()
    {
        if (ncclGetVersion(out var v) != 0) return "unknown";
        return v >= 10000 ? $"{v / 10000}.{v % 10000 / 100}.{v % 100}" : $"{v / 1000}.{v % 1000 / 100}.{v % 100}";
    }

    public static void Check(int result, int rank, string call, IntPtr comm = default)
    {
        if (result == 0) return;
        var last = comm != IntPtr.Zero ? LastError(comm) : "";
        throw new RankFailureException(rank, call, $"NCCL error {result}: {ErrorString(result)}" + (last.Length > 0 ? $" ({last})" : ""));
    }
}

/// <summary>P/Invoke of the CUDA runtime (libcudart.so.13, the PyTorch wheel's nvidia/cu13/lib). cudaError_t 0 is success.</summary>
internal static class Cuda
{
    private const string Lib = "libcudart.so.13";

    [DllImport(Lib)] public static extern int cudaGetDeviceCount(out int count);
    [DllImport(Lib)] public static extern int cudaSetDevice(int device);
    [DllImport(Lib)] public static extern int cudaDeviceSynchronize();
    [DllImport(Lib)] public static extern int cudaEventCreate(out IntPtr evt);
    [DllImport(Lib)] public static extern int cudaEventDestroy(IntPtr evt);
    [DllImport(Lib)] public static extern int cudaEventRecord(IntPtr evt, IntPtr stream);
    [DllImport(Lib)] public static extern int cudaEventSynchronize(IntPtr evt);
    /// <summary>
    /// cudaEventElapsedTime, resolved at first use: CUDA 12.8 added cudaEventElapsedTime_v2 and newer runtimes may
    /// export only that name, so take whichever of the two the loaded libcudart has.
    /// </summary>
    public static unsafe int cudaEventElapsedTime(out float ms, IntPtr start, IntPtr end)
    {
        float v = 0;
        var rc = ((delegate* unmanaged<float*, IntPtr, IntPtr, int>)ElapsedTime.Value)(&v, start, end);
        ms = v;
        return rc;
    }

    private static readonly Lazy<IntPtr> ElapsedTime = new(() =>
    {
        var lib = NativeLibrary.Load(Lib);
        foreach (var name in new[] { "cudaEventElapsedTime", "cudaEventElapsedTime_v2" })
            if (NativeLibrary.TryGetExport(lib, name, out var fn)) return fn;
        throw new EntryPointNotFoundException($"{Lib} exports neither cudaEventElapsedTime nor cudaEventElapsedTime_v2");
    });
    [DllImport(Lib)] public static extern int cudaDriverGetVersion(out int version);
    [DllImport(Lib)] public static extern int cudaRuntimeGetVersion(out int version);
    [DllImport(Lib)] public static extern IntPtr cudaGetErrorString(int error);

    public static string ErrorString(int error)
    {
        try { return Marshal.PtrToStringAnsi(cudaGetErrorString(error)) ?? $"cudaError {error}"; }
        catch (Exception) { return $"cudaError {error}"; }
    }

    public static void Check(int error, int rank, string call)
    {
        if (error != 0) throw new RankFailureException(rank, call, $"CUDA error {error}: {ErrorString(error)}");
    }

    /// <summary>"13.0" from 13000.</summary>
    public static string FormatVersion(int v) => $"{v / 1000}.{v % 1000 / 10}";
}

/// <summary>The CUDA driver API, only for the GPU's product name when nvidia-smi is not there.</summary>
internal static class CudaDriver
{
    private const string Lib = "libcuda.so.1";
    [DllImport(Lib)] public static extern int cuInit(uint flags);
    [DllImport(Lib)] public static extern int cuDeviceGet(out int device, int ordinal);
    [DllImport(Lib)] public static extern int cuDeviceGetName(byte[] name, int len, int device);

    public static string? DeviceName(int ordinal)
    {
        try
        {
            if (cuInit(0) != 0 || cuDeviceGet(out var dev, ordinal) != 0) return null;
            var buf = new byte[256];
            if (cuDeviceGetName(buf, buf.Length, dev) != 0) return null;
            var n = Array.IndexOf(buf, (byte)0);
            return System.Text.Encoding.ASCII.GetString(buf, 0, n < 0 ? buf.Length : n);
        }
        catch (Exception) { return null; }
    }
}

/// <summary>TorchSharp's native layer: a tensor's data pointer (data_ptr(), storage offset included).</summary>
internal static class TorchNative
{
    [DllImport("LibTorchSharp")] private static extern IntPtr THSTensor_data(IntPtr tensor);

    public static IntPtr DataPtr(TorchSharp.torch.Tensor t, int rank, string call)
    {
        if (t.numel() == 0) return IntPtr.Zero;
        var p = THSTensor_data(t.Handle);
        if (p == IntPtr.Zero) throw new RankFailureException(rank, call, "THSTensor_data returned null for a non-empty tensor");
        return p;
    }
}
