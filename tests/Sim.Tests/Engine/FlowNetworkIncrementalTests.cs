using Sim.Engine;

namespace Sim.Tests;

/// <summary>
/// <see cref="FlowNetwork"/> recomputes rates only in the component of links and flows a change reaches: on random
/// networks, with flows added and delivered in random order, its rates must equal a from-scratch max-min computation.
/// </summary>
public class FlowNetworkIncrementalTests
{
    private const double Tolerance = 1e-9;

    [Theory]
    [InlineData(20261204)]
    [InlineData(1)]
    [InlineData(42)]
    [InlineData(7777)]
    public void Incremental_rates_equal_a_full_recomputation_on_random_networks(int seed)
    {
        var rng = new Random(seed);
        for (var trial = 0; trial < 60; trial++)
        {
            var links = rng.Next(1, 16);
            // Some capacities repeat, so that links tie for the smallest share.
            var caps = Enumerable.Range(0, links).Select(_ => rng.Next(4) == 0 ? 100.0 : 1 + rng.NextDouble() * 999).ToArray();
            var net = new FlowNetwork(caps);
            var id = 0;
            var now = 0.0;
            for (var step = 0; step < 40; step++)
            {
                now += rng.NextDouble();
                var op = rng.Next(3);
                if (op != 1 || net.Active.Count == 0)
                    for (var k = rng.Next(1, 6); k > 0; k--) net.Add(RandomFlow(rng, id++, links), now);
                if (op != 0 && net.Active.Count > 0)
                {
                    if (rng.Next(2) == 0)
                        // Take a random few out.
                        foreach (var f in net.Active.OrderBy(_ => rng.Next()).Take(rng.Next(1, 4)).ToList()) net.Remove(f);
                    else if (net.SecondsToNextFinish() is var dt && !double.IsPositiveInfinity(dt))
                    {
                        // Run to the next delivery: at least the flow due then is taken, with (to rounding) no bytes left.
                        now += dt;
                        net.AdvanceTo(now);
                        var taken = net.TakeFinished();
                        Assert.NotEmpty(taken);
                        Assert.All(taken, f => Assert.True(f.Remaining <= f.Bytes * 1e-9 + 1e-6, $"{f.Remaining} left"));
                    }
                }
                net.Recompute();
                if (rng.Next(5) == 0) net.Recompute(); // nothing changed: rates stay
                AssertMaxMinFair(caps, net.Active, $"seed {seed}, trial {trial}, step {step}");
            }
        }
    }

    [Fact]
    public void Only_the_component_a_change_reaches_is_recomputed()
    {
        // Two disjoint pairs of links: a flow added on one side leaves the other side's flows alone.
        var net = new FlowNetwork([100.0, 50.0, 80.0, 20.0]);
        Flow F(int id, int[] route) => new() { Id = id, Route = route, Bytes = 1e6, LatencySeconds = 0, Src = 0, Dst = 1, Owner = 0 };
        var a = F(0, [0, 1]);
        var b = F(1, [2, 3]);
        net.Add(a, 0);
        net.Add(b, 0);
        net.Recompute();
        Assert.Equal(2, net.FlowsRecomputed);
        Assert.Equal(50, a.Rate, 9);
        Assert.Equal(20, b.Rate, 9);
        var c = F(2, [0]);
        net.Add(c, 0);
        net.Recompute();
        Assert.Equal(4, net.FlowsRecomputed); // a and c, not b
        Assert.Equal(50, a.Rate, 9);
        Assert.Equal(50, c.Rate, 9);
        Assert.Equal(20, b.Rate, 9);
        net.Remove(a);
        net.Recompute();
        Assert.Equal(5, net.FlowsRecomputed); // c alone
        Assert.Equal(100, c.Rate, 9);
    }

    private static Flow RandomFlow(Random rng, int id, int links)
    {
        var hops = rng.Next(1, Math.Min(links, 4) + 1);
        // Mostly distinct links; now and then a route that crosses a link twice.
        var route = Enumerable.Range(0, links).OrderBy(_ => rng.Next()).Take(hops).ToList();
        if (rng.Next(10) == 0) route.Add(route[0]);
        var weight = rng.Next(3) == 0 ? 1 : 0.25 + rng.NextDouble() * 8;
        var scale = rng.Next(3) == 0 ? route.Select(_ => 0.5 + rng.NextDouble() * 3).ToArray() : null;
        return new Flow
        {
            Id = id, Route = route.ToArray(), Bytes = 1e3 + rng.NextDouble() * 1e6, LatencySeconds = 0, Src = 0, Dst = 1, Owner = 0,
            Weight = weight, HopScale = scale,
        };
    }

    /// <summary>
    /// Weighted max-min rates by water-filling, written independently of <see cref="FlowNetwork"/>: all unfixed flows
    /// rise together (each at its weight times the level); the links that saturate first fix the flows they carry.
    /// </summary>
    private static double[] Reference(double[] caps, IReadOnlyList<Flow> flows)
    {
        var rate = new double[flows.Count];
        var isFixed = new bool[flows.Count];
        var left = flows.Count;
        while (left > 0)
        {
            var used = new double[caps.Length];
            var weight = new double[caps.Length];
            for (var i = 0; i < flows.Count; i++)
                for (var h = 0; h < flows[i].Route.Length; h++)
                {
                    var l = flows[i].Route[h];
                    if (isFixed[i]) used[l] += rate[i] * flows[i].Scale(h);
                    else weight[l] += flows[i].Weight * flows[i].Scale(h);
                }
            var share = new double[caps.Length];
            var level = double.PositiveInfinity;
            for (var l = 0; l < caps.Length; l++)
            {
                share[l] = weight[l] > 0 ? Math.Max(0, caps[l] - used[l]) / weight[l] : double.PositiveInfinity;
                level = Math.Min(level, share[l]);
            }
            for (var i = 0; i < flows.Count; i++)
                if (!isFixed[i] && flows[i].Route.Any(l => share[l] <= level * (1 + 1e-12)))
                {
                    rate[i] = level * flows[i].Weight;
                    isFixed[i] = true;
                    left--;
                }
        }
        return rate;
    }

    private static void AssertMaxMinFair(double[] caps, IReadOnlyList<Flow> active, string where)
    {
        var want = Reference(caps, active);
        for (var i = 0; i < active.Count; i++)
        {
            var got = active[i].Rate;
            Assert.True(Math.Abs(got - want[i]) <= Tolerance * Math.Max(Math.Abs(want[i]), 1e-300),
                $"{where}: flow {active[i].Id} rate {got:R}, from scratch {want[i]:R}");
        }
    }
}
