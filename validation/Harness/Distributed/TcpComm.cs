using static TorchSharp.torch;
using Sim.Harness.Backends;

namespace Sim.Harness.Distributed;

/// <summary>
/// The CPU backend's collectives between processes, over the rendezvous's TCP channel (a star through rank 0, so
/// for tests and small CPU runs, not for speed). Rank 0 gathers every rank's buffer, computes each rank's share
/// (sums in rank order, exactly as the in-process CPU collectives do, so results are bit-identical to a threaded
/// run) and sends it back.
/// </summary>
public sealed class TcpComm(ProcessGroup group) : IRankComm
{
    public int Rank => group.Rank;
    public int World => group.World;

    // A buffer on the wire: [i32 dtype][i32 count of longs][longs][raw elements].
    private static byte[] Pack(ScalarType dtype, long[] counts, Tensor? data)
    {
        var raw = data is null || data.numel() == 0 ? [] : Bytes(data);
        var ms = new MemoryStream(8 + counts.Length * 8 + raw.Length);
        using (var w = new BinaryWriter(ms))
        {
            w.Write((int)dtype);
            w.Write(counts.Length);
            foreach (var c in counts) w.Write(c);
            w.Write(raw);
        }
        return ms.ToArray();
    }

    private static (ScalarType DType, long[] Counts, ReadOnlyMemory<byte> Raw) Unpack(byte[] b)
    {
        using var r = new BinaryReader(new MemoryStream(b));
        var dt = (ScalarType)r.ReadInt32();
        var n = r.ReadInt32();
        var counts = new long[n];
        for (var i = 0; i < n; i++) counts[i] = r.ReadInt64();
        var at = 8 + 8 * n;
        return (dt, counts, b.AsMemory(at));
    }

    private static byte[] Bytes(Tensor t)
    {
        using var c = t.contiguous().clone();
        return c.bytes.ToArray();
    }

    private static Tensor FromBytes(ReadOnlySpan<byte> raw, ScalarType dtype, long n)
    {
        var t = empty(n, dtype: dtype);
        if (n > 0) t.bytes = raw[..(int)(n * Backend.ElementBytes(dtype))].ToArray();
        return t;
    }

    public void AllToAllV(Tensor send, long[] sendCounts, Tensor recv, long[] recvCounts)
    {
        const string call = "all_to_all_v";
        Backend.CheckCounts(Rank, call, sendCounts, World, "send counts");
        Backend.CheckCounts(Rank, call, recvCounts, World, "receive counts");
        Backend.CheckTensor(Rank, call, send, sendCounts.Sum(), "send");
        Backend.CheckTensor(Rank, call, recv, recvCounts.Sum(), "receive");
        using var used = send.flatten().narrow(0, 0, sendCounts.Sum());
        var mine = Pack(send.dtype, sendCounts, used);
        var reply = group.Exchange(mine, all =>
        {
            // For each destination d, from each source p: [i32 dtype][i64 count][elements].
            var parsed = all.Select(Unpack).ToArray();
            var outs = new byte[World][];
            for (var d = 0; d < World; d++)
            {
                var ms = new MemoryStream();
                using (var w = new BinaryWriter(ms))
                    for (var p = 0; p < World; p++)
                    {
                        var (dt, counts, raw) = parsed[p];
                        var esz = Backend.ElementBytes(dt);
                        long start = 0;
                        for (var q = 0; q < d; q++) start += counts[q];
                        w.Write((int)dt);
                        w.Write(counts[d]);
                        w.Write(raw.Span.Slice((int)(start * esz), (int)(counts[d] * esz)));
                    }
                outs[d] = ms.ToArray();
            }
            return outs;
        }, call);
        using var rd = new BinaryReader(new MemoryStream(reply));
        long dst = 0;
        for (var p = 0; p < World; p++)
        {
            var dt = (ScalarType)rd.ReadInt32();
            var n = rd.ReadInt64();
            var raw = rd.ReadBytes((int)(n * Backend.ElementBytes(dt)));
            if (n != recvCounts[p])
                throw new RankFailureException(Rank, call, $"expects {recvCounts[p]} elements from rank {p}, which sends {n}");
            if (n > 0 && dt != recv.dtype)
                throw new RankFailureException(Rank, call, $"rank {p} sends {dt}, this rank receives {recv.dtype}");
            if (n > 0)
            {
                using var from = FromBytes(raw, dt, n);
                using var to = recv.view(-1).narrow(0, dst, n);
                to.copy_(from);
            }
            dst += n;
        }
    }

    /// <summary>Gathers every rank's buffer at rank 0, checks the element counts agree, and returns them as tensors (rank 0 only).</summary>
    private static Tensor[] Tensors((ScalarType DType, long[] Counts, ReadOnlyMemory<byte> Raw)[] parsed, long n, string call, int rank)
    {
        for (var p = 0; p < parsed.Length; p++)
        {
            if (parsed[p].Counts[0] != n)
                throw new RankFailureException(rank, call, $"rank {p} reduces {parsed[p].Counts[0]} elements, rank 0 {n}");
            if (parsed[p].DType != parsed[0].DType)
                throw new RankFailureException(rank, call, $"rank {p} sends {parsed[p].DType}, rank 0 {parsed[0].DType}");
        }
        return parsed.Select(x => FromBytes(x.Raw.Span, x.DType, x.Counts[0])).ToArray();
    }

    public void AllReduceSum(Tensor tensor)
    {
        const string call = "all_reduce";
        Backend.CheckTensor(Rank, call, tensor, 0, "buffer");
        var reply = group.Exchange(Pack(tensor.dtype, [tensor.numel()], tensor), all =>
        {
            var ts = Tensors(all.Select(Unpack).ToArray(), all.Length > 0 ? Unpack(all[0]).Counts[0] : 0, call, Rank);
            try
            {
                using var sum = ts[0].clone();
                for (var p = 1; p < ts.Length; p++) sum.add_(ts[p]);
                var b = sum.numel() == 0 ? [] : Bytes(sum);
                return Enumerable.Repeat(b, ts.Length).ToArray();
            }
            finally { foreach (var t in ts) t.Dispose(); }
        }, call);
        if (tensor.numel() == 0) return;
        using var result = FromBytes(reply, tensor.dtype, tensor.numel());
        tensor.copy_(result.view(tensor.shape));
    }

    public void ReduceScatterSum(Tensor send, Tensor recv)
    {
        const string call = "reduce_scatter";
        var n = recv.numel();
        Backend.CheckTensor(Rank, call, send, n * World, "send");
        Backend.CheckTensor(Rank, call, recv, n, "receive");
        using var used = send.flatten().narrow(0, 0, n * World);
        var reply = group.Exchange(Pack(send.dtype, [n * World], used), all =>
        {
            var ts = Tensors(all.Select(Unpack).ToArray(), Unpack(all[0]).Counts[0], call, Rank);
            try
            {
                var w = ts.Length;
                var m = ts[0].numel() / w;
                return Enumerable.Range(0, w).Select(d =>
                {
                    using var acc = ts[0].narrow(0, d * m, m).clone();
                    for (var p = 1; p < w; p++)
                    {
                        using var block = ts[p].narrow(0, d * m, m);
                        acc.add_(block);
                    }
                    return m == 0 ? [] : Bytes(acc);
                }).ToArray();
            }
            finally { foreach (var t in ts) t.Dispose(); }
        }, call);
        if (n == 0) return;
        using var result = FromBytes(reply, send.dtype, n);
        recv.view(-1).copy_(result);
    }

    public void AllGather(Tensor send, Tensor recv)
    {
        const string call = "all_gather";
        var n = send.numel();
        Backend.CheckTensor(Rank, call, send, n, "send");
        Backend.CheckTensor(Rank, call, recv, n * World, "receive");
        var reply = group.Exchange(Pack(send.dtype, [n], send), all =>
        {
            var parsed = all.Select(Unpack).ToArray();
            if (parsed.Any(x => x.Counts[0] != parsed[0].Counts[0]))
                throw new RankFailureException(Rank, call, "ranks gather different element counts");
            var ms = new MemoryStream();
            foreach (var x in parsed) ms.Write(x.Raw.Span);
            var b = ms.ToArray();
            return Enumerable.Repeat(b, all.Length).ToArray();
        }, call);
        if (n == 0) return;
        using var result = FromBytes(reply, send.dtype, n * World);
        recv.view(-1).copy_(result);
    }

    public void Barrier() => group.Barrier();
}
