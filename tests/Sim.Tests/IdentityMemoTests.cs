using Sim.Cost;

namespace Sim.Tests;

public class IdentityMemoTests
{
    private sealed class Owner;

    private static readonly IdentityMemo<Owner, int, string>.Table Memo = new();

    [Fact]
    public void Computes_once_per_owner_and_key_and_never_mixes_them()
    {
        var (a, b) = (new Owner(), new Owner());
        var calls = 0;
        string Get(Owner o, int k) => IdentityMemo<Owner, int, string>.Get(Memo, o, k, (o, k), s => { calls++; return $"{s.o.GetHashCode()}:{s.k}"; });
        var first = Get(a, 1);
        Assert.Same(first, Get(a, 1));
        Assert.Equal(1, calls);
        Assert.NotEqual(first, Get(b, 1)); // another owner
        Assert.NotEqual(first, Get(a, 2)); // another key
        Assert.Equal(3, calls);
        // Past the bound an owner's new keys are computed every time, and still right.
        for (var k = 3; k < 100; k++) Assert.Equal($"{a.GetHashCode()}:{k}", Get(a, k));
        var before = calls;
        Assert.Equal($"{a.GetHashCode()}:{99}", Get(a, 99));
        Assert.Equal(before + 1, calls);
        Assert.Same(first, Get(a, 1)); // early keys stay
    }

    [Fact]
    public void Dense_seconds_follow_the_gpu_the_costs_and_the_batch_not_just_the_workload()
    {
        var w = Fixtures.Workload();
        var gpu = Fixtures.Cluster(1, 1).Gpu;
        var p = CostParameters.Default;
        var baseSeconds = DenseWork.ForwardSeconds(gpu, p, w, 512);
        // A copy of the workload (another instance) computes afresh: each variant must equal its fresh value.
        Assert.Equal(DenseWork.ForwardSeconds(gpu, p, w with { }, 512), baseSeconds);
        foreach (var (g, q, batch) in new[] { (gpu with { PeakFlopsPerSecond = gpu.PeakFlopsPerSecond.ToDictionary(kv => kv.Key, kv => 2 * kv.Value), HbmBytesPerSecond = 2 * gpu.HbmBytesPerSecond }, p, 512.0), (gpu, p with { KernelOverheadSeconds = 1e-3 }, 512.0), (gpu, p, 4096.0) })
        {
            var remembered = DenseWork.ForwardSeconds(g, q, w, batch);
            Assert.NotEqual(baseSeconds, remembered);
            Assert.Equal(DenseWork.ForwardSeconds(g, q, w with { }, batch), remembered);
            Assert.Equal(DenseWork.BackwardSeconds(g, q, w with { }, batch), DenseWork.BackwardSeconds(g, q, w, batch));
        }
    }
}
