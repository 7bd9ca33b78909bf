using static TorchSharp.torch;

namespace Sim.Harness.Backends;

/// <summary>
/// Collectives between the ranks of one run, seen from one rank. Every rank calls the same operations in the same
/// order. Tensors must be contiguous, of the same dtype on every rank, on this rank's device; counts are elements.
/// </summary>
public interface IRankComm
{
    int Rank { get; }
    int World { get; }

    /// <summary>
    /// All-to-all with uneven splits: this rank's <paramref name="send"/> holds, in rank order, sendCounts[p]
    /// elements for each peer p; <paramref name="recv"/> receives, in rank order, recvCounts[p] elements from each
    /// peer p. recvCounts[p] must equal peer p's sendCounts[this rank].
    /// </summary>
    void AllToAllV(Tensor send, long[] sendCounts, Tensor recv, long[] recvCounts);

    /// <summary>In-place sum over ranks; every rank ends with identical values.</summary>
    void AllReduceSum(Tensor tensor);

    /// <summary><paramref name="send"/> has World*n elements; <paramref name="recv"/> (n) gets the sum over ranks of block Rank.</summary>
    void ReduceScatterSum(Tensor send, Tensor recv);

    /// <summary><paramref name="send"/> has n elements; <paramref name="recv"/> (World*n) gets every rank's block in rank order.</summary>
    void AllGather(Tensor send, Tensor recv);

    /// <summary>Returns once every rank has reached it and this rank's device has finished its queued work.</summary>
    void Barrier();
}

/// <summary>
/// Times the phases of one iteration on one rank. On a GPU a phase is timed on the device (CUDA events on the
/// stream the work runs on), so it is device time between the phase's start and end; the iteration is wall time.
/// </summary>
public interface IPhaseTimer : IDisposable
{
    void StartIteration();
    void Begin(int phase);
    void End(int phase);
    /// <summary>Waits for the device, then returns each phase's seconds and the iteration's wall seconds.</summary>
    IterationTiming FinishIteration();
}

/// <summary>One rank's times for one iteration.</summary>
public sealed record IterationTiming(double[] PhaseSeconds, double IterationSeconds)
{
    public double BusySeconds => PhaseSeconds.Sum();
    public double HostOverheadSeconds => IterationSeconds - BusySeconds;
}

/// <summary>What the body of a rank thread gets: its rank, device, communicator and timer.</summary>
public sealed record RankContext(int Rank, int World, Device Device, IRankComm Comm, IBackend Backend)
{
    public IPhaseTimer CreateTimer(int phases) => Backend.CreateTimer(Rank, phases);
    public void Synchronize() => Backend.Synchronize(Rank);
}

/// <summary>A way to run W ranks: CPU threads with in-process collectives, or one thread per GPU with NCCL.</summary>
public interface IBackend
{
    /// <summary>"cpu" or "cuda".</summary>
    string Name { get; }
    /// <summary>Most ranks this backend can run at once (GPUs on the machine for CUDA).</summary>
    int MaxWorld { get; }
    Device DeviceOf(int rank);
    IPhaseTimer CreateTimer(int rank, int phases);
    /// <summary>Waits until the rank's device has finished all queued work (no-op on CPU).</summary>
    void Synchronize(int rank);

    /// <summary>
    /// Runs <paramref name="body"/> on <paramref name="world"/> threads, one per rank, each with its device selected
    /// and its communicator created (once). If a rank throws, the others are released from their collectives and
    /// a <see cref="RankFailureException"/> for the first failure is thrown here.
    /// </summary>
    void RunRanks(int world, Action<RankContext> body);

    /// <summary>
    /// Runs <paramref name="body"/> as this process's one rank of a multi-process run (one process per GPU), on
    /// device <paramref name="localDevice"/>: collectives through NCCL (cuda, with the id from the rendezvous) or
    /// over the group's TCP channel (cpu). Throws <see cref="RankCancelledException"/> when another rank's failure
    /// stopped this one, or a <see cref="RankFailureException"/> for this rank's own failure.
    /// </summary>
    void RunProcessRank(Distributed.ProcessGroup group, int localDevice, Action<RankContext> body);
}

/// <summary>A rank failed: which rank, in which call (e.g. "all_to_all_forward: ncclGroupEnd"), and the error text.</summary>
public sealed class RankFailureException : Exception
{
    public int Rank { get; }
    public string Call { get; }
    public string Error { get; }

    public RankFailureException(int rank, string call, string error, Exception? inner = null)
        : base($"rank {rank}: {call}: {error}", inner)
    {
        Rank = rank; Call = call; Error = error;
    }

    /// <summary>The same failure with the phase (or other context) prefixed to the call.</summary>
    public RankFailureException Within(string context) => new(Rank, $"{context}: {Call}", Error, this);
}

public static class Backend
{
    public static readonly IReadOnlyList<string> Names = ["cpu", "cuda"];

    /// <summary>Creates a backend; for "cuda" this loads libtorch's CUDA backend, NCCL and the CUDA runtime.</summary>
    public static IBackend Create(string name) => name switch
    {
        "cpu" => new CpuBackend(),
        "cuda" => GpuBackend.Create(),
        _ => throw new ArgumentException($"unknown device '{name}'; expected cpu or cuda", nameof(name)),
    };

    /// <summary>Bytes of one element of a dtype the collectives carry.</summary>
    public static int ElementBytes(ScalarType t) => t switch
    {
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int8 or ScalarType.Byte => 1,
        _ => throw new NotSupportedException($"collectives do not carry {t}"),
    };

    internal static void CheckCounts(int rank, string call, long[] counts, int world, string what)
    {
        if (counts.Length != world) throw new RankFailureException(rank, call, $"{what} has {counts.Length} entries for {world} ranks");
        foreach (var c in counts)
            if (c < 0) throw new RankFailureException(rank, call, $"{what} has a negative count");
    }

    internal static void CheckTensor(int rank, string call, Tensor t, long minElements, string what)
    {
        if (!t.is_contiguous()) throw new RankFailureException(rank, call, $"{what} tensor is not contiguous");
        if (t.numel() < minElements) throw new RankFailureException(rank, call, $"{what} tensor has {t.numel()} elements, needs {minElements}");
    }
}
