using System.Diagnostics;
using static TorchSharp.torch;

namespace Sim.Harness.Backends;

/// <summary>
/// CPU backend: TorchSharp CPU tensors, one thread per rank, collectives done in-process. A collective publishes
/// each rank's buffers in shared slots, meets at a barrier, lets every rank read what it needs from its peers, and
/// meets again before anyone reuses a buffer. Sums are taken in rank order on every rank, so all ranks get
/// bit-identical results (as NCCL guarantees on GPUs).
/// </summary>
public sealed class CpuBackend : IBackend
{
    /// <summary>Rank threads are cheap, but a world beyond this is surely a mistake.</summary>
    public const int MaxThreads = 256;

    public string Name => "cpu";
    public int MaxWorld => MaxThreads;
    public Device DeviceOf(int rank) => CPU;
    public IPhaseTimer CreateTimer(int rank, int phases) => new StopwatchTimer(phases);
    public void Synchronize(int rank) { }

    public void RunRanks(int world, Action<RankContext> body)
    {
        var group = new CpuGroup(world);
        RankThreads.Run(world, rank => body(new RankContext(rank, world, CPU, new CpuComm(group, rank), this)), group.Cancel);
    }

    public void RunProcessRank(Distributed.ProcessGroup group, int localDevice, Action<RankContext> body) =>
        Distributed.ProcessRank.Run(group, () => body(new RankContext(group.Rank, group.World, CPU, new Distributed.TcpComm(group), this)));

    private sealed class CpuGroup(int world)
    {
        public readonly int World = world;
        public readonly Barrier Barrier = new(world);
        public readonly CancellationTokenSource Cts = new();
        public readonly Tensor?[] Send = new Tensor?[world];
        public readonly long[]?[] Counts = new long[]?[world];
        public void Cancel() => Cts.Cancel();
    }

    private sealed class CpuComm(CpuGroup g, int rank) : IRankComm
    {
        public int Rank => rank;
        public int World => g.World;

        private void Meet(string call)
        {
            try { g.Barrier.SignalAndWait(g.Cts.Token); }
            catch (OperationCanceledException) { throw new RankCancelledException(rank, call); }
        }

        private void Publish(Tensor t, long[]? counts)
        {
            g.Send[rank] = t;
            g.Counts[rank] = counts;
        }

        public void AllToAllV(Tensor send, long[] sendCounts, Tensor recv, long[] recvCounts)
        {
            const string call = "all_to_all_v";
            Backend.CheckCounts(rank, call, sendCounts, World, "send counts");
            Backend.CheckCounts(rank, call, recvCounts, World, "receive counts");
            Backend.CheckTensor(rank, call, send, sendCounts.Sum(), "send");
            Backend.CheckTensor(rank, call, recv, recvCounts.Sum(), "receive");
            Publish(send, sendCounts);
            Meet(call);
            try
            {
                long dst = 0;
                for (var p = 0; p < World; p++)
                {
                    var peerCounts = g.Counts[p]!;
                    if (peerCounts[rank] != recvCounts[p])
                        throw new RankFailureException(rank, call, $"expects {recvCounts[p]} elements from rank {p}, which sends {peerCounts[rank]}");
                    var peer = g.Send[p]!;
                    if (peer.dtype != recv.dtype)
                        throw new RankFailureException(rank, call, $"rank {p} sends {peer.dtype}, this rank receives {recv.dtype}");
                    long src = 0;
                    for (var q = 0; q < rank; q++) src += peerCounts[q];
                    var n = recvCounts[p];
                    if (n > 0)
                    {
                        using var from = peer.flatten().narrow(0, src, n);
                        using var to = recv.view(-1).narrow(0, dst, n);
                        to.copy_(from);
                    }
                    dst += n;
                }
            }
            finally { Meet(call); }
        }

        public void AllReduceSum(Tensor tensor)
        {
            const string call = "all_reduce";
            Backend.CheckTensor(rank, call, tensor, 0, "buffer");
            Publish(tensor, [tensor.numel()]);
            Meet(call);
            Tensor sum;
            try
            {
                foreach (var p in Enumerable.Range(0, World))
                    if (g.Counts[p]![0] != tensor.numel())
                        throw new RankFailureException(rank, call, $"rank {p} reduces {g.Counts[p]![0]} elements, this rank {tensor.numel()}");
                sum = g.Send[0]!.clone();
                for (var p = 1; p < World; p++) sum.add_(g.Send[p]!);
            }
            finally { Meet(call); }
            tensor.copy_(sum);
            sum.Dispose();
        }

        public void ReduceScatterSum(Tensor send, Tensor recv)
        {
            const string call = "reduce_scatter";
            var n = recv.numel();
            Backend.CheckTensor(rank, call, send, n * World, "send");
            Backend.CheckTensor(rank, call, recv, n, "receive");
            Publish(send, [n]);
            Meet(call);
            try
            {
                using var acc = g.Send[0]!.view(-1).narrow(0, rank * n, n).clone();
                for (var p = 1; p < World; p++)
                {
                    using var block = g.Send[p]!.view(-1).narrow(0, rank * n, n);
                    acc.add_(block);
                }
                recv.view(-1).copy_(acc);
            }
            finally { Meet(call); }
        }

        public void AllGather(Tensor send, Tensor recv)
        {
            const string call = "all_gather";
            var n = send.numel();
            Backend.CheckTensor(rank, call, send, n, "send");
            Backend.CheckTensor(rank, call, recv, n * World, "receive");
            Publish(send, [n]);
            Meet(call);
            try
            {
                for (var p = 0; p < World; p++)
                {
                    using var to = recv.view(-1).narrow(0, p * n, n);
                    to.copy_(g.Send[p]!.view(-1));
                }
            }
            finally { Meet(call); }
        }

        public void Barrier() => Meet("barrier");
    }

    /// <summary>Host wall-clock phase timer (CPU work is synchronous, so this is the phase's compute time).</summary>
    private sealed class StopwatchTimer(int phases) : IPhaseTimer
    {
        private readonly double[] _begin = new double[phases];
        private readonly double[] _seconds = new double[phases];
        private long _start;

        private static double Now() => Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

        public void StartIteration()
        {
            Array.Clear(_seconds);
            _start = Stopwatch.GetTimestamp();
        }

        public void Begin(int phase) => _begin[phase] = Now();
        public void End(int phase) => _seconds[phase] += Now() - _begin[phase];

        public IterationTiming FinishIteration() =>
            new((double[])_seconds.Clone(), Stopwatch.GetElapsedTime(_start).TotalSeconds);

        public void Dispose() { }
    }
}

/// <summary>A rank left a collective because another rank failed; not itself the cause.</summary>
public sealed class RankCancelledException(int rank, string call) : Exception($"rank {rank}: {call}: cancelled because another rank failed")
{
    public int Rank { get; } = rank;
}

/// <summary>Starts one thread per rank, collects the first real failure, and cancels the others when one fails.</summary>
internal static class RankThreads
{
    /// <summary>How long to wait for the other ranks to unwind after a failure before giving up on them.</summary>
    public static TimeSpan UnwindTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public static void Run(int world, Action<int> rankBody, Action cancelAll)
    {
        RankFailureException? first = null;
        var gate = new object();
        void Fail(RankFailureException e)
        {
            lock (gate) first ??= e;
            cancelAll();
        }

        var threads = new Thread[world];
        using var done = new CountdownEvent(world);
        for (var r = 0; r < world; r++)
        {
            var rank = r;
            threads[r] = new Thread(() =>
            {
                try { rankBody(rank); }
                catch (RankCancelledException) { cancelAll(); }
                catch (RankFailureException e) { Fail(e); }
                catch (Exception e) { Fail(new RankFailureException(rank, "rank thread", $"{e.GetType().Name}: {e.Message}", e)); }
                finally { done.Signal(); }
            }, 16 * 1024 * 1024)
            {
                IsBackground = true,
                Name = $"rank {rank}",
            };
        }
        foreach (var t in threads) t.Start();
        // Wait for all; once one failed, give the others a bounded time to unwind (a GPU rank can hang in a
        // collective whose peer is gone), then report the failure anyway.
        while (!done.Wait(TimeSpan.FromMilliseconds(200)))
        {
            bool failed;
            lock (gate) failed = first is not null;
            if (failed)
            {
                if (!done.Wait(UnwindTimeout))
                {
                    var stuck = threads.Select((t, i) => (t, i)).Where(x => x.t.IsAlive).Select(x => x.i.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    lock (gate) first = new RankFailureException(first!.Rank, first.Call, first.Error + $" (ranks {string.Join(", ", stuck)} did not stop within {UnwindTimeout.TotalSeconds:0} s)", first);
                }
                break;
            }
        }
        lock (gate)
        {
            if (first is not null) throw first;
        }
    }
}
