using TorchSharp;
using static TorchSharp.torch;

namespace Sim.Harness.Training;

/// <summary>
/// Initial embedding values as a pure function of (seed, table index, global row, global column), computed on the
/// device with exact integer tensor arithmetic (a quadratic hash modulo the prime 2^31-1, every product below
/// 2^62) and only then mapped to a float: so a shard holds exactly the rows and columns of the unsharded table,
/// bit for bit, on any device and under any plan. Values are uniform in [-1/sqrt(rows), 1/sqrt(rows)) as in DLRM.
/// No host copy of a table is ever made; big shards are filled in chunks to bound temporary memory.
/// </summary>
public static class TableInit
{
    private const long P = 2147483647; // 2^31 - 1, prime
    private const long M1 = 1103515245, M2 = 69069, M3 = 1664525, K1 = 1013904223, K2 = 12345;

    /// <summary>Elements per chunk: bounds the int64 temporaries (a few of them, 8 bytes each).</summary>
    public const long ChunkElements = 1L << 24;

    /// <summary>Fills <paramref name="shard"/> (rows x cols, float32, contiguous) with rows [rowOffset, +rows) and columns [colOffset, +cols).</summary>
    public static void Fill(Tensor shard, long seed, int tableIndex, long tableRows, long rowOffset, int colOffset)
    {
        var rows = shard.shape[0];
        var cols = shard.shape[1];
        if (rows == 0 || cols == 0) return;
        var baseKey = (long)(Seeds.Derive(seed, Seeds.TableStream, tableIndex) % P);
        var scale = 1.0 / Math.Sqrt(tableRows);
        var chunkRows = Math.Max(1, ChunkElements / cols);
        using var _ = torch.no_grad();
        for (long r0 = 0; r0 < rows; r0 += chunkRows)
        {
            var n = Math.Min(chunkRows, rows - r0);
            using var scope = torch.NewDisposeScope();
            var dev = shard.device;
            var row = torch.arange(rowOffset + r0, rowOffset + r0 + n, dtype: ScalarType.Int64, device: dev).unsqueeze(1);
            var col = torch.arange(colOffset, colOffset + cols, dtype: ScalarType.Int64, device: dev).unsqueeze(0);
            // Rows may exceed P: fold in both halves. Every operand stays below P < 2^31, every product below 2^62.
            var lo = row.remainder(P);
            var hi = row.div(P, rounding_mode: RoundingMode.floor);
            var h = lo.mul(M1).add(baseKey).remainder(P);
            h = h.mul(M2).add(hi).remainder(P);
            h = h.mul(M3).add(col.mul(M1).remainder(P)).remainder(P);
            h = h.mul(h).add(K1).remainder(P);
            h = h.mul(M2).add(K2).remainder(P);
            h = h.mul(h).add(col).remainder(P);
            var u = h.to(ScalarType.Float64).div((double)P);             // [0, 1)
            var v = u.mul(2.0).sub(1.0).mul(scale).to(shard.dtype);     // [-scale, scale)
            shard.narrow(0, r0, n).copy_(v);
        }
    }

    /// <summary>A new table block on <paramref name="device"/>, filled as <see cref="Fill"/> says.</summary>
    public static Tensor Create(Device device, long seed, int tableIndex, long tableRows, long rowOffset, long rows, int colOffset, int cols)
    {
        var t = torch.empty(rows, cols, dtype: ScalarType.Float32, device: device);
        Fill(t, seed, tableIndex, tableRows, rowOffset, colOffset);
        return t;
    }
}
