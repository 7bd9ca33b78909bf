using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Sim.Harness.Backends;

namespace Sim.Harness.Distributed;

/// <summary>
/// The TCP channel between the processes of a multi-process run: a star with rank 0 at its centre. Rank 0 listens on
/// MASTER_ADDR:MASTER_PORT; every other rank connects and says hello (its rank, world size and run key); once all
/// have, rank 0 checks them and sends each the same 128-byte id (the NCCL unique id on GPUs). The connections then
/// stay open for barriers, the CPU backend's collectives, and the gather of results at the end.
///
/// Nothing waits without bound: the rendezvous, every barrier and the result gather give up after
/// <see cref="Timeout"/>, naming the waiting rank and the ranks it waited for. A peer that fails or whose process
/// exits (its connection closes) cancels the group: <see cref="Cancelled"/> fires on every rank (on GPUs it aborts
/// the NCCL communicator, so a rank blocked in a collective returns).
///
/// Frames are [u32 big-endian length][u8 kind][payload], length counting kind and payload.
/// </summary>
public sealed class ProcessGroup : IDisposable
{
    private enum Kind : byte
    {
        Hello = 1, Welcome = 2, Refuse = 3, Barrier = 4, Go = 5, Data = 6, Result = 7, ResultFailed = 8, Abort = 9, End = 10,
    }

    private sealed record Hello(string Magic, int Version, int Rank, int World, string Key);

    private const string Magic = "sim-harness";
    private const int ProtocolVersion = 1;
    public const int IdBytes = 128;
    private const int MaxFrame = int.MaxValue - 16;

    private sealed class Peer(int rank, TcpClient client)
    {
        public readonly int Rank = rank;
        public readonly TcpClient Client = client;
        public readonly NetworkStream Stream = client.GetStream();
        public readonly object WriteLock = new();
        public readonly BlockingCollection<byte[]> Inbox = new();
        public readonly TaskCompletionSource<(bool Failed, byte[] Payload)> Result = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly TaskCompletionSource<int> End = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public volatile bool Lost;
    }

    public int Rank { get; }
    public int World { get; }
    public TimeSpan Timeout { get; }
    /// <summary>The id rank 0 made; the same bytes on every rank.</summary>
    public byte[] UniqueId { get; }
    public string Master { get; }

    private readonly Peer?[] _peers; // rank 0: one per other rank; other ranks: [0] is rank 0
    private readonly CancellationTokenSource _cancel = new();
    private readonly object _gate = new();
    private string? _cancelReason;
    private int _firstFailedRank = -1;

    /// <summary>Fires once when the run is cancelled (a peer failed or vanished, or rank 0 aborted the run).</summary>
    public CancellationToken Cancelled => _cancel.Token;
    public bool IsCancelled => _cancel.IsCancellationRequested;
    public string? CancelReason { get { lock (_gate) return _cancelReason; } }
    /// <summary>The first rank known to have failed (by its own report, a lost connection, or this rank's own failure); -1 if none.</summary>
    public int FirstFailedRank { get { lock (_gate) return _firstFailedRank; } }

    private ProcessGroup(int rank, int world, TimeSpan timeout, byte[] id, string master, Peer?[] peers)
    {
        Rank = rank; World = world; Timeout = timeout; UniqueId = id; Master = master; _peers = peers;
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture);
    private static string Ranks(IEnumerable<int> r) => string.Join(", ", r.Select(x => x.ToString(CultureInfo.InvariantCulture)));

    // ---------------------------------------------------------------- rendezvous

    /// <summary>
    /// Rank 0's listening socket on the master address (loopback when the address is a loopback one, otherwise every
    /// interface, since MASTER_ADDR names this host as the others see it). Port 0 picks a free port (tests).
    /// </summary>
    public static TcpListener Listen(string masterAddr, int port)
    {
        IPAddress bind;
        if (IPAddress.TryParse(masterAddr, out var ip)) bind = IPAddress.IsLoopback(ip) ? ip : (ip.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any);
        else if (masterAddr.Equals("localhost", StringComparison.OrdinalIgnoreCase)) bind = IPAddress.Loopback;
        else bind = IPAddress.Any;
        var l = new TcpListener(bind, port);
        l.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        l.Start(Math.Max(16, 128));
        return l;
    }

    /// <summary>Joins the rendezvous of <paramref name="launch"/>: rank 0 listens (or uses <paramref name="listener"/>), the others connect.</summary>
    /// <param name="makeId">Rank 0 only: makes the id every rank gets (ncclGetUniqueId on GPUs).</param>
    public static ProcessGroup Join(ProcessLaunch launch, string runKey, TimeSpan timeout, Func<byte[]> makeId, TcpListener? listener = null)
    {
        if (launch.Rank == 0)
        {
            TcpListener l;
            try { l = listener ?? Listen(launch.MasterAddr, launch.MasterPort); }
            catch (SocketException e)
            {
                throw new RankFailureException(0, "rendezvous", $"cannot listen on {launch.Master}: {e.Message} (set HARNESS_MASTER_PORT to a free port, the same for every rank)");
            }
            try { return Host(l, launch, runKey, timeout, makeId); }
            finally { l.Stop(); }
        }
        return Connect(launch, runKey, timeout);
    }

    private static ProcessGroup Host(TcpListener listener, ProcessLaunch launch, string runKey, TimeSpan timeout, Func<byte[]> makeId)
    {
        var world = launch.WorldSize;
        var peers = new Peer?[world];
        var deadline = Stopwatch.StartNew();
        string? problem = null;
        try
        {
            while (peers.Skip(1).Any(p => p is null))
            {
                var left = timeout - deadline.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    var missing = Enumerable.Range(1, world - 1).Where(r => peers[r] is null);
                    problem = $"waited {Seconds(timeout)} s on {launch.Master} for ranks {Ranks(missing)} (check that every process started, with the same MASTER_ADDR/MASTER_PORT)";
                    break;
                }
                TcpClient client;
                try
                {
                    using var cts = new CancellationTokenSource(left);
                    client = listener.AcceptTcpClientAsync(cts.Token).AsTask().GetAwaiter().GetResult();
                }
                catch (OperationCanceledException) { continue; }
                client.NoDelay = true;
                Hello? hello;
                try
                {
                    var s = client.GetStream();
                    s.ReadTimeout = (int)Math.Clamp(left.TotalMilliseconds, 1, 10_000);
                    var (kind, payload) = ReadFrame(s) ?? throw new IOException("closed");
                    if (kind != Kind.Hello) throw new IOException("not a hello");
                    hello = JsonSerializer.Deserialize<Hello>(payload);
                    s.ReadTimeout = System.Threading.Timeout.Infinite;
                }
                catch (Exception)
                {
                    // Not one of ours (or it gave up): drop it and keep waiting.
                    client.Dispose();
                    continue;
                }
                if (hello is null || hello.Magic != Magic || hello.Version != ProtocolVersion)
                {
                    Refuse(client, "not a harness rendezvous of this version");
                    continue;
                }
                string? mismatch = null;
                if (hello.World != world) mismatch = $"rank {hello.Rank} has world size {hello.World}, rank 0 has {world}";
                else if (hello.Rank < 1 || hello.Rank >= world) mismatch = $"a process says it is rank {hello.Rank}, not in 1..{world - 1}";
                else if (peers[hello.Rank] is not null) mismatch = $"two processes say they are rank {hello.Rank}";
                else if (hello.Key != runKey)
                    mismatch = $"rank {hello.Rank} has run key {Short(hello.Key)}, rank 0 has {Short(runKey)}: the processes were given different topology, workload or plan files or settings";
                if (mismatch is not null)
                {
                    Refuse(client, mismatch);
                    problem = mismatch;
                    break;
                }
                peers[hello.Rank] = new Peer(hello.Rank, client);
            }
            if (problem is null)
            {
                var id = makeId();
                if (id.Length != IdBytes) throw new InvalidOperationException($"the id has {id.Length} bytes, not {IdBytes}");
                foreach (var p in peers.Skip(1)) WriteFrame(p!.Stream, Kind.Welcome, id);
                var g = new ProcessGroup(0, world, timeout, id, launch.Master, peers);
                g.StartReaders();
                return g;
            }
        }
        catch (Exception e) when (e is not RankFailureException)
        {
            problem ??= $"{e.GetType().Name}: {e.Message}";
        }
        foreach (var p in peers.Skip(1).OfType<Peer>())
        {
            Refuse(p.Client, $"rank 0 gave up: {problem}");
        }
        throw new RankFailureException(0, "rendezvous", problem);
    }

    private static string Short(string key) => key.Length > 12 ? key[..12] : key;

    private static void Refuse(TcpClient client, string message)
    {
        try { WriteFrame(client.GetStream(), Kind.Refuse, Encoding.UTF8.GetBytes(message)); }
        catch (Exception) { }
        finally { client.Dispose(); }
    }

    private static ProcessGroup Connect(ProcessLaunch launch, string runKey, TimeSpan timeout)
    {
        var rank = launch.Rank;
        var clock = Stopwatch.StartNew();
        TcpClient? client = null;
        string lastError = "";
        while (client is null)
        {
            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
                throw new RankFailureException(rank, "rendezvous", $"waited {Seconds(timeout)} s for rank 0 to listen on {launch.Master} ({lastError})");
            var c = new TcpClient { NoDelay = true };
            try
            {
                using var cts = new CancellationTokenSource(left < TimeSpan.FromSeconds(5) ? left : TimeSpan.FromSeconds(5));
                c.ConnectAsync(launch.MasterAddr, launch.MasterPort, cts.Token).AsTask().GetAwaiter().GetResult();
                client = c;
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                c.Dispose();
                lastError = e is SocketException se ? se.Message : "connect timed out";
                var pause = TimeSpan.FromMilliseconds(100);
                if (timeout - clock.Elapsed > pause) Thread.Sleep(pause);
            }
        }
        try
        {
            var s = client.GetStream();
            WriteFrame(s, Kind.Hello, JsonSerializer.SerializeToUtf8Bytes(new Hello(Magic, ProtocolVersion, rank, launch.WorldSize, runKey)));
            // Rank 0 answers once every rank is in, or when it gives up; wait a little past our own deadline so
            // that its answer (which names the missing ranks) arrives before we give up ourselves.
            var grace = timeout < TimeSpan.FromSeconds(5) ? timeout : TimeSpan.FromSeconds(5);
            var left = timeout + grace - clock.Elapsed;
            s.ReadTimeout = (int)Math.Max(1, left.TotalMilliseconds);
            (Kind, byte[])? reply;
            try { reply = ReadFrame(s); }
            catch (IOException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.TimedOut })
            {
                throw new RankFailureException(rank, "rendezvous", $"waited {Seconds(clock.Elapsed)} s for rank 0 on {launch.Master} to admit every rank");
            }
            s.ReadTimeout = System.Threading.Timeout.Infinite;
            switch (reply)
            {
                case (Kind.Welcome, var id) when id.Length == IdBytes:
                    var g = new ProcessGroup(rank, launch.WorldSize, timeout, id, launch.Master, [new Peer(0, client)]);
                    g.StartReaders();
                    return g;
                case (Kind.Refuse, var msg):
                    throw new RankFailureException(rank, "rendezvous", $"refused by rank 0: {Encoding.UTF8.GetString(msg)}");
                case null:
                    throw new RankFailureException(rank, "rendezvous", $"rank 0 on {launch.Master} closed the connection");
                default:
                    throw new RankFailureException(rank, "rendezvous", $"unexpected reply from {launch.Master}");
            }
        }
        catch (Exception)
        {
            client.Dispose();
            throw;
        }
    }

    // ---------------------------------------------------------------- framing

    private static void WriteFrame(Stream s, Kind kind, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > MaxFrame) throw new IOException($"a frame of {payload.Length} bytes is too large");
        Span<byte> head = stackalloc byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(head, (uint)(payload.Length + 1));
        head[4] = (byte)kind;
        s.Write(head);
        s.Write(payload);
        s.Flush();
    }

    private static (Kind, byte[])? ReadFrame(Stream s)
    {
        var head = new byte[5];
        if (!ReadExactly(s, head, allowEof: true)) return null;
        var length = BinaryPrimitives.ReadUInt32BigEndian(head);
        if (length < 1 || length > MaxFrame + 1) throw new IOException($"bad frame length {length}");
        var payload = new byte[length - 1];
        ReadExactly(s, payload, allowEof: false);
        return ((Kind)head[4], payload);
    }

    private static bool ReadExactly(Stream s, byte[] buffer, bool allowEof)
    {
        var got = 0;
        while (got < buffer.Length)
        {
            var n = s.Read(buffer, got, buffer.Length - got);
            if (n == 0)
            {
                if (got == 0 && allowEof) return false;
                throw new IOException("connection closed in the middle of a frame");
            }
            got += n;
        }
        return true;
    }

    private void Send(Peer p, Kind kind, ReadOnlySpan<byte> payload, string call)
    {
        try
        {
            lock (p.WriteLock) WriteFrame(p.Stream, kind, payload);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or SocketException)
        {
            if (IsCancelled) throw new RankCancelledException(Rank, call);
            throw new RankFailureException(Rank, call, $"lost the connection to rank {p.Rank}: {e.Message}");
        }
    }

    // ---------------------------------------------------------------- after the rendezvous

    private void StartReaders()
    {
        foreach (var p in _peers.OfType<Peer>())
        {
            var peer = p;
            new Thread(() => ReadLoop(peer)) { IsBackground = true, Name = $"rendezvous reader (rank {Rank} <- {peer.Rank})" }.Start();
        }
    }

    private void ReadLoop(Peer p)
    {
        try
        {
            while (true)
            {
                var frame = ReadFrame(p.Stream);
                if (frame is null) break;
                var (kind, payload) = frame.Value;
                switch (kind)
                {
                    case Kind.Result:
                    case Kind.ResultFailed:
                        p.Result.TrySetResult((kind == Kind.ResultFailed, payload));
                        if (kind == Kind.ResultFailed) Cancel($"rank {p.Rank} failed", p.Rank);
                        break;
                    case Kind.Abort:
                        Cancel(Encoding.UTF8.GetString(payload), -1);
                        break;
                    case Kind.End:
                        p.End.TrySetResult(payload.Length >= 4 ? BinaryPrimitives.ReadInt32BigEndian(payload) : 1);
                        break;
                    default:
                        p.Inbox.Add(payload);
                        break;
                }
            }
        }
        catch (Exception) { }
        p.Lost = true;
        p.Inbox.CompleteAdding();
        if (!p.Result.Task.IsCompleted && !p.End.Task.IsCompleted && !_disposed)
            Cancel($"the connection to rank {p.Rank} closed (its process exited?)", p.Rank);
        p.Result.TrySetResult((true, []));
        p.End.TrySetResult(-1);
    }

    /// <summary>Cancels the run here; rank 0 also tells every other rank to stop.</summary>
    public void Cancel(string reason, int failedRank)
    {
        lock (_gate)
        {
            if (failedRank >= 0 && _firstFailedRank < 0) _firstFailedRank = failedRank;
            if (_cancelReason is not null) return;
            _cancelReason = reason;
        }
        if (Rank == 0)
            foreach (var p in _peers.OfType<Peer>())
            {
                if (p.Lost || p.Result.Task.IsCompleted) continue;
                try { lock (p.WriteLock) WriteFrame(p.Stream, Kind.Abort, Encoding.UTF8.GetBytes(reason)); }
                catch (Exception) { }
            }
        try { _cancel.Cancel(); } catch (Exception) { } // a callback's own failure (e.g. an abort of a finished communicator) changes nothing
    }

    /// <summary>This rank failed: records it as the first failure (unless one came first) and stops the others.</summary>
    public void ReportOwnFailure(RankFailureException e) => Cancel($"rank {Rank} failed: {e.Call}", Rank);

    private byte[] Receive(Peer p, string call, Stopwatch clock, Func<string> waitingFor)
    {
        var left = Timeout - clock.Elapsed;
        try
        {
            if (p.Inbox.TryTake(out var item, (int)Math.Clamp(left.TotalMilliseconds, 0, int.MaxValue), _cancel.Token)) return item;
        }
        catch (OperationCanceledException) { throw new RankCancelledException(Rank, call); }
        catch (InvalidOperationException) { } // completed: the peer is gone
        if (IsCancelled) throw new RankCancelledException(Rank, call);
        if (p.Lost) throw new RankFailureException(Rank, call, $"the connection to rank {p.Rank} closed");
        throw new RankFailureException(Rank, call, $"waited {Seconds(Timeout)} s for {waitingFor()}");
    }

    /// <summary>Returns once every rank has called it; cancellable; gives up after <see cref="Timeout"/>.</summary>
    public void Barrier(string call = "barrier")
    {
        if (World == 1) return;
        var clock = Stopwatch.StartNew();
        if (Rank == 0)
        {
            var arrived = new bool[World];
            arrived[0] = true;
            foreach (var p in _peers.Skip(1))
            {
                Receive(p!, call, clock, () => $"ranks {Ranks(Enumerable.Range(0, World).Where(r => !arrived[r]))} at the {call}");
                arrived[p!.Rank] = true;
            }
            foreach (var p in _peers.Skip(1)) Send(p!, Kind.Go, [], call);
        }
        else
        {
            var root = _peers[0]!;
            Send(root, Kind.Barrier, [], call);
            Receive(root, call, clock, () => $"rank 0 to release the {call}");
        }
    }

    /// <summary>
    /// Every rank sends <paramref name="mine"/> to rank 0; rank 0 computes one reply per rank from all of them
    /// (index = rank) and each rank gets its own. Cancellable; gives up after <see cref="Timeout"/>.
    /// </summary>
    public byte[] Exchange(byte[] mine, Func<byte[][], byte[][]> replies, string call)
    {
        if (World == 1) return replies([mine])[0];
        var clock = Stopwatch.StartNew();
        if (Rank == 0)
        {
            var all = new byte[World][];
            all[0] = mine;
            foreach (var p in _peers.Skip(1))
                all[p!.Rank] = Receive(p, call, clock, () => $"ranks {Ranks(Enumerable.Range(1, World - 1).Where(r => all[r] is null))} in {call}");
            var out_ = replies(all);
            foreach (var p in _peers.Skip(1)) Send(p!, Kind.Data, out_[p!.Rank], call);
            return out_[0];
        }
        var root = _peers[0]!;
        Send(root, Kind.Data, mine, call);
        return Receive(root, call, clock, () => $"rank 0 in {call}");
    }

    /// <summary>
    /// The end of a run. Ranks other than 0 send their result (UTF-8 JSON) and get null. Rank 0 waits up to
    /// <see cref="Timeout"/> for every rank's result and gets them by rank (null for a rank that never reported;
    /// <paramref name="missing"/> says why). Not cancellable: a failed run still reports what it measured.
    /// </summary>
    public byte[]?[]? GatherResults(byte[] mine, bool failed, out string? missing)
    {
        missing = null;
        if (Rank != 0)
        {
            var root = _peers[0]!;
            try { lock (root.WriteLock) WriteFrame(root.Stream, failed ? Kind.ResultFailed : Kind.Result, mine); }
            catch (Exception e) { missing = $"could not send the result to rank 0: {e.Message}"; }
            return null;
        }
        var all = new byte[]?[World];
        all[0] = mine;
        var clock = Stopwatch.StartNew();
        var lost = new List<int>();
        foreach (var p in _peers.Skip(1).OfType<Peer>())
        {
            var left = Timeout - clock.Elapsed;
            if (!p.Result.Task.Wait(left < TimeSpan.Zero ? TimeSpan.Zero : left)) continue;
            var (_, payload) = p.Result.Task.Result;
            if (payload.Length == 0) lost.Add(p.Rank);
            else all[p.Rank] = payload;
        }
        var silent = Enumerable.Range(1, World - 1).Where(r => all[r] is null && !lost.Contains(r)).ToList();
        var parts = new List<string>();
        if (lost.Count > 0) parts.Add($"ranks {Ranks(lost)} closed the connection without reporting (see their output)");
        if (silent.Count > 0) parts.Add($"rank 0 waited {Seconds(Timeout)} s for the results of ranks {Ranks(silent)}");
        if (parts.Count > 0) missing = string.Join("; ", parts);
        return all;
    }

    /// <summary>Rank 0: tells every rank the run is over and with which exit code (after the measurement is written).</summary>
    public void End(int exitCode)
    {
        if (Rank != 0) return;
        var b = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(b, exitCode);
        foreach (var p in _peers.Skip(1).OfType<Peer>())
        {
            if (p.Lost) continue;
            try { lock (p.WriteLock) WriteFrame(p.Stream, Kind.End, b); }
            catch (Exception) { }
        }
    }

    /// <summary>Other ranks: waits up to <see cref="Timeout"/> for rank 0's exit code; null if it never came.</summary>
    public int? WaitForEnd()
    {
        if (Rank == 0) return 0;
        var t = _peers[0]!.End.Task;
        return t.Wait(Timeout) && t.Result >= 0 ? t.Result : null;
    }

    private volatile bool _disposed;

    public void Dispose()
    {
        _disposed = true;
        foreach (var p in _peers.OfType<Peer>())
        {
            try { p.Client.Client.Shutdown(SocketShutdown.Both); } catch (Exception) { }
            p.Client.Dispose();
        }
    }
}
