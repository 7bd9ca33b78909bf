using Sim.Collectives;
using Sim.Cost;

namespace Sim.Tests;

public class CollectiveModelTests
{
    private static readonly CostParameters Ideal = new() { IntraNodeCollectiveEfficiency = 1, ScaleOutCollectiveEfficiency = 1, CollectiveOverheadSeconds = 0 };

    [Theory]
    [InlineData(2, 1e6)]
    [InlineData(4, 256e6)]
    [InlineData(8, 1e9)]
    public void Single_node_all_reduce_is_the_ring_formula(int n, double bytes)
    {
        var c = Fixtures.Cluster(1, n);
        var expected = 2.0 * (n - 1) / n * bytes / 300e9 + 2.0 * (n - 1) * 2e-6;
        Assert.Equal(expected, CollectiveModel.AllReduceSeconds(c, Ideal, bytes), 12);
    }

    [Fact]
    public void Multi_node_all_reduce_is_hierarchical()
    {
        var c = Fixtures.Cluster(4, 8);
        const double s = 800e6;
        var intra = 7.0 / 8 * s / 300e9 + 7 * 2e-6;                  // reduce-scatter, and again all-gather
        var inter = 2.0 * 3 / 4 * (s / 8) / 25e9 + 2.0 * 3 * 5e-6;   // 8 parallel rings on S/8 over 4 nodes
        Assert.Equal(2 * intra + inter, CollectiveModel.AllReduceSeconds(c, Ideal, s), 12);
    }

    [Fact]
    public void One_gpu_per_node_all_reduce_rings_over_the_nics()
    {
        var c = Fixtures.Cluster(4, 1);
        Assert.Equal(2.0 * 3 / 4 * 1e9 / 25e9 + 6 * 5e-6, CollectiveModel.AllReduceSeconds(c, Ideal, 1e9), 12);
    }

    [Fact]
    public void All_to_all_tier_bytes_match_a_hand_count_for_2_nodes_of_4()
    {
        var c = Fixtures.Cluster(2, 4);
        var d = new AllToAllDemand(8);
        d.ToEachPeer[0] = 100;   // rank 0 owns something everyone needs: 100 bytes to each rank
        d.FromEachPeer[5] = 10;  // rank 5 needs 10 bytes from every rank
        var t = d.PerRank(c);
        // Rank 0 sends 100 to 3 node-mates and 4 remote ranks, and 10 to rank 5 (remote).
        Assert.Equal(new TierBytes(300, 410, 0, 0), t[0]);
        // Rank 5 receives 100 from rank 0 (remote) and 10 from each of its 3 node-mates and 4 remote ranks; it sends nothing.
        Assert.Equal(new TierBytes(0, 0, 30, 100 + 40), t[5]);
        // Rank 4 (node 1) receives 100 from rank 0 over the network and sends 10 to its node-mate 5.
        Assert.Equal(new TierBytes(10, 0, 0, 100), t[4]);
        Assert.Equal(t.Sum(x => x.Sent), t.Sum(x => x.Received));
    }

    [Fact]
    public void All_to_all_time_is_latency_plus_busier_direction_over_bandwidth()
    {
        var c = Fixtures.Cluster(1, 4);
        var d = new AllToAllDemand(4);
        for (var r = 0; r < 4; r++) d.ToEachPeer[r] = 1e6;
        var expected = 2e-6 + 3e6 / 300e9;
        Assert.All(CollectiveModel.AllToAllPerRank(c, Ideal, d), t => Assert.Equal(expected, t, 12));
    }
}
