using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.Harness.Backends;

/// <summary>
/// GPU backend: TorchSharp CUDA tensors, one thread per GPU (rank r drives cuda:r), NCCL communicators created once
/// per <see cref="RunRanks"/> with ncclCommInitRank. TorchSharp runs its kernels on the device's default stream,
/// so NCCL calls and the phase timer's CUDA events go on stream 0 as well: everything on a rank is in stream order.
/// </summary>
public sealed class GpuBackend : IBackend
{
    private static readonly IntPtr DefaultStream = IntPtr.Zero;

    public string Name => "cuda";
    public int MaxWorld { get; }

    private GpuBackend(int devices) { MaxWorld = devices; }

    /// <summary>Loads libtorch's CUDA backend and counts the GPUs; a machine without any gets a backend with MaxWorld 0.</summary>
    public static GpuBackend Create()
    {
        torch.InitializeDeviceType(DeviceType.CUDA);
        var count = torch.cuda.is_available() ? torch.cuda.device_count() : 0;
        return new GpuBackend(count);
    }

    public Device DeviceOf(int rank) => new(DeviceType.CUDA, rank);

    public IPhaseTimer CreateTimer(int rank, int phases) => new EventTimer(rank, phases);

    public void Synchronize(int rank)
    {
        Cuda.Check(Cuda.cudaSetDevice(rank), rank, "cudaSetDevice");
        Cuda.Check(Cuda.cudaDeviceSynchronize(), rank, "cudaDeviceSynchronize");
    }

    public void RunRanks(int world, Action<RankContext> body)
    {
        if (world > MaxWorld) throw new RankFailureException(0, "setup", $"{world} ranks need {world} GPUs, {MaxWorld} available");
        Nccl.Check(Nccl.ncclGetUniqueId(out var id), 0, "ncclGetUniqueId");
        var barrier = new Barrier(world);
        var cts = new CancellationTokenSource();
        RankThreads.Run(world, rank =>
        {
            Cuda.Check(Cuda.cudaSetDevice(rank), rank, "cudaSetDevice");
            Nccl.Check(Nccl.ncclCommInitRank(out var comm, world, id, rank), rank, "ncclCommInitRank");
            try
            {
                body(new RankContext(rank, world, DeviceOf(rank), new NcclComm(rank, world, comm, barrier, cts.Token, this), this));
                Synchronize(rank);
            }
            finally
            {
                // Destroying a communicator waits for its peers; after a failure the peers may be gone, so leave it
                // to process exit then.
                if (!cts.IsCancellationRequested) Nccl.Check(Nccl.ncclCommDestroy(comm), rank, "ncclCommDestroy");
            }
        }, cts.Cancel);
    }

    private static int NcclType(ScalarType t, int rank, string call) => t switch
    {
        ScalarType.Float32 => Nccl.Float32,
        ScalarType.Float16 => Nccl.Float16,
        ScalarType.BFloat16 => Nccl.Bfloat16,
        ScalarType.Float64 => Nccl.Float64,
        ScalarType.Int64 => Nccl.Int64,
        ScalarType.Int32 => Nccl.Int32,
        ScalarType.Int8 => Nccl.Int8,
        ScalarType.Byte => Nccl.Uint8,
        _ => throw new RankFailureException(rank, call, $"NCCL does not carry {t}"),
    };

    private sealed class NcclComm(int rank, int world, IntPtr comm, Barrier hostBarrier, CancellationToken cancel, GpuBackend backend) : IRankComm
    {
        public int Rank => rank;
        public int World => world;

        public void AllToAllV(Tensor send, long[] sendCounts, Tensor recv, long[] recvCounts)
        {
            const string call = "all_to_all_v";
            Backend.CheckCounts(rank, call, sendCounts, world, "send counts");
            Backend.CheckCounts(rank, call, recvCounts, world, "receive counts");
            Backend.CheckTensor(rank, call, send, sendCounts.Sum(), "send");
            Backend.CheckTensor(rank, call, recv, recvCounts.Sum(), "receive");
            if (send.dtype != recv.dtype) throw new RankFailureException(rank, call, $"send is {send.dtype}, receive is {recv.dtype}");
            var dt = NcclType(send.dtype, rank, call);
            var esz = Backend.ElementBytes(send.dtype);
            var sp = TorchNative.DataPtr(send, rank, call);
            var rp = TorchNative.DataPtr(recv, rank, call);
            Nccl.Check(Nccl.ncclGroupStart(), rank, "ncclGroupStart", comm);
            long so = 0, ro = 0;
            for (var p = 0; p < world; p++)
            {
                if (sendCounts[p] > 0)
                    Nccl.Check(Nccl.ncclSend(sp + (nint)(so * esz), (nuint)sendCounts[p], dt, p, comm, DefaultStream), rank, $"ncclSend to rank {p}", comm);
                if (recvCounts[p] > 0)
                    Nccl.Check(Nccl.ncclRecv(rp + (nint)(ro * esz), (nuint)recvCounts[p], dt, p, comm, DefaultStream), rank, $"ncclRecv from rank {p}", comm);
                so += sendCounts[p];
                ro += recvCounts[p];
            }
            Nccl.Check(Nccl.ncclGroupEnd(), rank, "ncclGroupEnd", comm);
        }

        public void AllReduceSum(Tensor tensor)
        {
            const string call = "ncclAllReduce";
            Backend.CheckTensor(rank, call, tensor, 0, "buffer");
            if (tensor.numel() == 0) return;
            var p = TorchNative.DataPtr(tensor, rank, call);
            Nccl.Check(Nccl.ncclAllReduce(p, p, (nuint)tensor.numel(), NcclType(tensor.dtype, rank, call), Nccl.Sum, comm, DefaultStream), rank, call, comm);
        }

        public void ReduceScatterSum(Tensor send, Tensor recv)
        {
            const string call = "ncclReduceScatter";
            var n = recv.numel();
            Backend.CheckTensor(rank, call, send, n * world, "send");
            Backend.CheckTensor(rank, call, recv, n, "receive");
            if (n == 0) return;
            Nccl.Check(Nccl.ncclReduceScatter(TorchNative.DataPtr(send, rank, call), TorchNative.DataPtr(recv, rank, call), (nuint)n,
                NcclType(send.dtype, rank, call), Nccl.Sum, comm, DefaultStream), rank, call, comm);
        }

        public void AllGather(Tensor send, Tensor recv)
        {
            const string call = "ncclAllGather";
            var n = send.numel();
            Backend.CheckTensor(rank, call, send, n, "send");
            Backend.CheckTensor(rank, call, recv, n * world, "receive");
            if (n == 0) return;
            Nccl.Check(Nccl.ncclAllGather(TorchNative.DataPtr(send, rank, call), TorchNative.DataPtr(recv, rank, call), (nuint)n,
                NcclType(send.dtype, rank, call), comm, DefaultStream), rank, call, comm);
        }

        public void Barrier()
        {
            backend.Synchronize(rank);
            try { hostBarrier.SignalAndWait(cancel); }
            catch (OperationCanceledException) { throw new RankCancelledException(rank, "barrier"); }
        }
    }

    /// <summary>CUDA events on stream 0 around each phase; the iteration is host wall time up to the device being idle.</summary>
    private sealed class EventTimer : IPhaseTimer
    {
        private readonly int _rank;
        private readonly IntPtr[] _begin, _end;
        private readonly bool[] _used;
        private long _start;

        public EventTimer(int rank, int phases)
        {
            _rank = rank;
            _begin = new IntPtr[phases];
            _end = new IntPtr[phases];
            _used = new bool[phases];
            Cuda.Check(Cuda.cudaSetDevice(rank), rank, "cudaSetDevice");
            for (var i = 0; i < phases; i++)
            {
                Cuda.Check(Cuda.cudaEventCreate(out _begin[i]), rank, "cudaEventCreate");
                Cuda.Check(Cuda.cudaEventCreate(out _end[i]), rank, "cudaEventCreate");
            }
        }

        public void StartIteration()
        {
            Array.Clear(_used);
            _start = Stopwatch.GetTimestamp();
        }

        public void Begin(int phase)
        {
            Cuda.Check(Cuda.cudaEventRecord(_begin[phase], DefaultStream), _rank, "cudaEventRecord");
            _used[phase] = true;
        }

        public void End(int phase) => Cuda.Check(Cuda.cudaEventRecord(_end[phase], DefaultStream), _rank, "cudaEventRecord");

        public IterationTiming FinishIteration()
        {
            Cuda.Check(Cuda.cudaDeviceSynchronize(), _rank, "cudaDeviceSynchronize");
            var wall = Stopwatch.GetElapsedTime(_start).TotalSeconds;
            var s = new double[_begin.Length];
            for (var i = 0; i < s.Length; i++)
            {
                if (!_used[i]) continue;
                Cuda.Check(Cuda.cudaEventElapsedTime(out var ms, _begin[i], _end[i]), _rank, "cudaEventElapsedTime");
                s[i] = ms / 1e3;
            }
            return new IterationTiming(s, wall);
        }

        public void Dispose()
        {
            foreach (var e in _begin.Concat(_end))
                if (e != IntPtr.Zero) Cuda.cudaEventDestroy(e);
        }
    }
}
