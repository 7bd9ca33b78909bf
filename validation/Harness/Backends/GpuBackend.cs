using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.Harness.Backends;

/// <summary>
/// GPU backend: TorchSharp CUDA tensors, one thread per GPU (rank r drives cuda:r), NCCL communicators created once
/// per <see cref="RunRanks"/> with ncclCommInitRank; or, in a multi-process run (<see cref="RunProcessRank"/>), this
/// process's one rank on its local GPU, with the NCCL id from the TCP rendezvous. TorchSharp runs its kernels on the device's default stream,
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

    // In a multi-process run this process drives one rank on its local device; in threads, rank r drives cuda:r.
    private int _processRank = -1, _processDevice = -1;
    private int Dev(int rank) => rank == _processRank ? _processDevice : rank;

    public Device DeviceOf(int rank) => new(DeviceType.CUDA, Dev(rank));

    public IPhaseTimer CreateTimer(int rank, int phases) => new EventTimer(rank, Dev(rank), phases);

    public void Synchronize(int rank)
    {
        Cuda.Check(Cuda.cudaSetDevice(Dev(rank)), rank, "cudaSetDevice");
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
                void HostBarrier()
                {
                    try { barrier.SignalAndWait(cts.Token); }
                    catch (OperationCanceledException) { throw new RankCancelledException(rank, "barrier"); }
                }
                body(new RankContext(rank, world, DeviceOf(rank), new NcclComm(rank, world, comm, HostBarrier, () => false, new object(), this), this));
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

    /// <summary>The NCCL unique id rank 0 hands out at the rendezvous of a multi-process run.</summary>
    public static unsafe byte[] NewUniqueId()
    {
        Nccl.Check(Nccl.ncclGetUniqueId(out var id), 0, "ncclGetUniqueId");
        var b = new byte[Distributed.ProcessGroup.IdBytes];
        for (var i = 0; i < b.Length; i++) b[i] = id.Internal[i];
        return b;
    }

    private static unsafe NcclUniqueId ToUniqueId(byte[] bytes)
    {
        NcclUniqueId id = default;
        for (var i = 0; i < Distributed.ProcessGroup.IdBytes; i++) id.Internal[i] = bytes[i];
        return id;
    }

    /// <summary>
    /// One rank of a multi-process run: ncclCommInitRank with the id from the rendezvous on cuda:localDevice. When the
    /// group is cancelled (another rank failed or its process exited) the communicator is aborted (ncclCommAbort), so
    /// a rank waiting on a collective whose peer is gone returns instead of hanging. NCCL calls and the abort take
    /// the same lock, so no call is made on an aborted communicator.
    /// </summary>
    public void RunProcessRank(Distributed.ProcessGroup group, int localDevice, Action<RankContext> body)
    {
        var rank = group.Rank;
        var world = group.World;
        _processRank = rank;
        _processDevice = localDevice;
        var id = ToUniqueId(group.UniqueId);
        Distributed.ProcessRank.Run(group, () =>
        {
            Cuda.Check(Cuda.cudaSetDevice(localDevice), rank, "cudaSetDevice");
            Nccl.Check(Nccl.ncclCommInitRank(out var comm, world, id, rank), rank, "ncclCommInitRank");
            var gate = new object();
            var state = 0; // 0 live, 1 destroyed, 2 aborted
            using var onCancel = group.Cancelled.Register(() => Task.Run(() =>
            {
                lock (gate)
                {
                    if (state != 0) return;
                    state = 2;
                    Nccl.ncclCommAbort(comm);
                }
            }));
            try
            {
                body(new RankContext(rank, world, DeviceOf(rank), new NcclComm(rank, world, comm, () => group.Barrier(), () => state != 0, gate, this), this));
                Synchronize(rank);
            }
            finally
            {
                lock (gate)
                {
                    if (state == 0 && !group.IsCancelled)
                    {
                        state = 1;
                        Nccl.Check(Nccl.ncclCommDestroy(comm), rank, "ncclCommDestroy");
                    }
                }
            }
        });
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

    /// <param name="hostBarrier">Meets the other ranks (threads: a Barrier; processes: the TCP channel).</param>
    /// <param name="aborted">True once the communicator was aborted; every NCCL call checks it under <paramref name="gate"/>.</param>
    private sealed class NcclComm(int rank, int world, IntPtr comm, Action hostBarrier, Func<bool> aborted, object gate, GpuBackend backend) : IRankComm
    {
        public int Rank => rank;
        public int World => world;

        private void Call(string call, Action nccl)
        {
            lock (gate)
            {
                if (aborted()) throw new RankCancelledException(rank, call);
                nccl();
            }
        }

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
            Call(call, () =>
            {
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
            });
        }

        public void AllReduceSum(Tensor tensor)
        {
            const string call = "ncclAllReduce";
            Backend.CheckTensor(rank, call, tensor, 0, "buffer");
            if (tensor.numel() == 0) return;
            var p = TorchNative.DataPtr(tensor, rank, call);
            var dt = NcclType(tensor.dtype, rank, call);
            Call(call, () => Nccl.Check(Nccl.ncclAllReduce(p, p, (nuint)tensor.numel(), dt, Nccl.Sum, comm, DefaultStream), rank, call, comm));
        }

        public void ReduceScatterSum(Tensor send, Tensor recv)
        {
            const string call = "ncclReduceScatter";
            var n = recv.numel();
            Backend.CheckTensor(rank, call, send, n * world, "send");
            Backend.CheckTensor(rank, call, recv, n, "receive");
            if (n == 0) return;
            var (sp, rp, dt) = (TorchNative.DataPtr(send, rank, call), TorchNative.DataPtr(recv, rank, call), NcclType(send.dtype, rank, call));
            Call(call, () => Nccl.Check(Nccl.ncclReduceScatter(sp, rp, (nuint)n, dt, Nccl.Sum, comm, DefaultStream), rank, call, comm));
        }

        public void AllGather(Tensor send, Tensor recv)
        {
            const string call = "ncclAllGather";
            var n = send.numel();
            Backend.CheckTensor(rank, call, send, n, "send");
            Backend.CheckTensor(rank, call, recv, n * world, "receive");
            if (n == 0) return;
            var (sp, rp, dt) = (TorchNative.DataPtr(send, rank, call), TorchNative.DataPtr(recv, rank, call), NcclType(send.dtype, rank, call));
            Call(call, () => Nccl.Check(Nccl.ncclAllGather(sp, rp, (nuint)n, dt, comm, DefaultStream), rank, call, comm));
        }

        public void Barrier()
        {
            backend.Synchronize(rank);
            hostBarrier();
        }
    }

    /// <summary>CUDA events on stream 0 around each phase; the iteration is host wall time up to the device being idle.</summary>
    private sealed class EventTimer : IPhaseTimer
    {
        private readonly int _rank;
        private readonly IntPtr[] _begin, _end;
        private readonly bool[] _used;
        private long _start;

        public EventTimer(int rank, int device, int phases)
        {
            _rank = rank;
            _begin = new IntPtr[phases];
            _end = new IntPtr[phases];
            _used = new bool[phases];
            Cuda.Check(Cuda.cudaSetDevice(device), rank, "cudaSetDevice");
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
