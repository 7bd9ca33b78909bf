using Sim.Harness.Backends;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.Harness.Tests;

/// <summary>The CPU backend's collectives: every block reaches the right rank at the right place.</summary>
public class CollectiveTests
{
    /// <summary>Elements rank s sends rank d: uneven, and zero for some pairs (including some self-sends).</summary>
    private static long Count(int s, int d) => (s + 2 * d) % 4 == 0 ? 0 : s + 3 * d + 1;

    /// <summary>Element i of the block from s to d: encodes all three, so a misplaced element is identified.</summary>
    private static long Value(int s, int d, long i) => s * 1_000_000L + d * 1_000L + i;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void UnevenAllToAllDeliversEveryBlockToTheRightRank(int world)
    {
        var received = new long[world][];
        new CpuBackend().RunRanks(world, ctx =>
        {
            var me = ctx.Rank;
            var sendCounts = Enumerable.Range(0, world).Select(d => Count(me, d)).ToArray();
            var recvCounts = Enumerable.Range(0, world).Select(s => Count(s, me)).ToArray();
            var send = Enumerable.Range(0, world).SelectMany(d => Enumerable.Range(0, (int)Count(me, d)).Select(i => Value(me, d, i))).ToArray();
            using var sendT = torch.tensor(send, dtype: ScalarType.Int64);
            using var recvT = torch.full(recvCounts.Sum(), -1L, dtype: ScalarType.Int64);
            ctx.Comm.AllToAllV(sendT, sendCounts, recvT, recvCounts);
            received[me] = recvT.data<long>().ToArray();
        });
        for (var d = 0; d < world; d++)
        {
            var expected = Enumerable.Range(0, world).SelectMany(s => Enumerable.Range(0, (int)Count(s, d)).Select(i => Value(s, d, i))).ToArray();
            Assert.Equal(expected, received[d]);
        }
    }

    [Fact]
    public void AllToAllWithFloatsAndMismatchedCountsFailsWithRankAndCall()
    {
        var e = Assert.Throws<RankFailureException>(() => new CpuBackend().RunRanks(2, ctx =>
        {
            using var send = torch.zeros(4);
            using var recv = torch.zeros(4);
            // Rank 1 expects 3 from rank 0, which sends 2.
            long[] recvCounts = ctx.Rank == 1 ? [3, 1] : [2, 2];
            long[] sendCounts = ctx.Rank == 0 ? [2, 2] : [2, 1];
            ctx.Comm.AllToAllV(send, sendCounts, recv, recvCounts);
        }));
        Assert.Equal("all_to_all_v", e.Call);
        Assert.Contains("rank 0", e.Error);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void AllReduceReduceScatterAllGather(int world)
    {
        const int n = 3;
        var results = new (float[] Sum, float[] Scattered, float[] Gathered)[world];
        new CpuBackend().RunRanks(world, ctx =>
        {
            var me = ctx.Rank;
            using var a = torch.arange(0, world * n, dtype: ScalarType.Float32).add(me * 100);
            var sum = a.clone();
            ctx.Comm.AllReduceSum(sum);
            using var rs = torch.zeros(n);
            ctx.Comm.ReduceScatterSum(a, rs);
            using var mine = torch.full(n, (float)me);
            using var ag = torch.zeros(world * n);
            ctx.Comm.AllGather(mine, ag);
            results[me] = (sum.data<float>().ToArray(), rs.data<float>().ToArray(), ag.data<float>().ToArray());
            sum.Dispose();
        });
        var rankSum = Enumerable.Range(0, world).Sum(r => r * 100f);
        for (var r = 0; r < world; r++)
        {
            Assert.Equal(Enumerable.Range(0, world * n).Select(i => world * i + rankSum).ToArray(), results[r].Sum);
            Assert.Equal(Enumerable.Range(r * n, n).Select(i => world * i + rankSum).ToArray(), results[r].Scattered);
            Assert.Equal(Enumerable.Range(0, world * n).Select(i => (float)(i / n)).ToArray(), results[r].Gathered);
        }
    }

    [Fact]
    public void FailureOnOneRankReleasesTheOthers()
    {
        var e = Assert.Throws<RankFailureException>(() => new CpuBackend().RunRanks(3, ctx =>
        {
            if (ctx.Rank == 2) throw new InvalidOperationException("boom");
            ctx.Comm.Barrier();
        }));
        Assert.Equal(2, e.Rank);
        Assert.Contains("boom", e.Error);
    }
}
