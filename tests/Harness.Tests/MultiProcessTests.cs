using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Sim.Config;
using Sim.Harness.Backends;
using Sim.Harness.Distributed;
using Sim.Harness.Training;
using Sim.Measurements;

namespace Sim.Harness.Tests;

/// <summary>One process per GPU: the rank from torchrun's or Slurm's environment, and the TCP rendezvous (loopback only).</summary>
public class LaunchEnvironmentTests
{
    private static Func<string, string?> Env(params (string Key, string Value)[] vars)
    {
        var d = vars.ToDictionary(v => v.Key, v => v.Value);
        return k => d.GetValueOrDefault(k);
    }

    [Fact]
    public void TorchrunVariablesGiveTheRank()
    {
        var l = LaunchEnvironment.Resolve(LaunchMode.Auto, Env(("RANK", "5"), ("WORLD_SIZE", "8"), ("LOCAL_RANK", "1"), ("MASTER_ADDR", "node-a"), ("MASTER_PORT", "29500")));
        Assert.Equal(new ProcessLaunch(5, 8, 1, "node-a", 29500, "torchrun", "WORLD_SIZE"), l);
        Assert.Equal("node-a:29500", l!.Master);
    }

    [Fact]
    public void UnderTorchrunsAgentStoreTheHarnessTakesTheNextPortUnlessToldOtherwise()
    {
        (string, string)[] vars = [("RANK", "0"), ("WORLD_SIZE", "2"), ("MASTER_ADDR", "h"), ("MASTER_PORT", "29500"), ("TORCHELASTIC_USE_AGENT_STORE", "True")];
        Assert.Equal(29501, LaunchEnvironment.Resolve(LaunchMode.Auto, Env(vars))!.MasterPort);
        Assert.Equal(40000, LaunchEnvironment.Resolve(LaunchMode.Auto, Env([.. vars, ("HARNESS_MASTER_PORT", "40000")]))!.MasterPort);
        Assert.Equal(29500, LaunchEnvironment.Resolve(LaunchMode.Auto, Env(vars[..4]))!.MasterPort);
    }

    [Fact]
    public void SlurmVariablesGiveTheRankAndNeedAMasterAddress()
    {
        var l = LaunchEnvironment.Resolve(LaunchMode.Auto, Env(("SLURM_PROCID", "6"), ("SLURM_NTASKS", "8"), ("SLURM_LOCALID", "2"), ("MASTER_ADDR", "10.0.0.7"), ("MASTER_PORT", "29400")));
        Assert.Equal(new ProcessLaunch(6, 8, 2, "10.0.0.7", 29400, "slurm", "SLURM_NTASKS"), l);

        var e = Assert.Throws<SimInputException>(() => LaunchEnvironment.Resolve(LaunchMode.Auto, Env(("SLURM_PROCID", "0"), ("SLURM_NTASKS", "8"), ("SLURM_LOCALID", "0"))));
        Assert.StartsWith("MASTER_ADDR: Slurm (SLURM_PROCID, SLURM_NTASKS) is set but MASTER_ADDR and MASTER_PORT are not", e.Message);
        Assert.Contains("scontrol show hostnames", e.Message);
    }

    [Fact]
    public void TorchrunWinsOverSlurmAndOptionsWinOverBoth()
    {
        var env = Env(("RANK", "1"), ("WORLD_SIZE", "2"), ("MASTER_ADDR", "a"), ("MASTER_PORT", "1"), ("SLURM_PROCID", "3"), ("SLURM_NTASKS", "4"), ("LOCAL_RANK", "1"));
        Assert.Equal("torchrun", LaunchEnvironment.Resolve(LaunchMode.Auto, env)!.Source);
        var o = LaunchEnvironment.Resolve(LaunchMode.Auto, env, rank: 3, worldSize: 4, master: "[::1]:1234");
        Assert.Equal(new ProcessLaunch(3, 4, 1, "::1", 1234, "options", "--world-size"), o);
        Assert.Equal("[::1]:1234", o!.Master);
    }

    [Fact]
    public void NoLaunchOrAWorldOfOneRunsThreads()
    {
        Assert.Null(LaunchEnvironment.Resolve(LaunchMode.Auto, Env()));
        Assert.Null(LaunchEnvironment.Resolve(LaunchMode.Auto, Env(("RANK", "0"), ("WORLD_SIZE", "1"), ("MASTER_ADDR", "a"), ("MASTER_PORT", "1"))));
        Assert.Null(LaunchEnvironment.Resolve(LaunchMode.Auto, Env(("SLURM_PROCID", "0"), ("SLURM_NTASKS", "1"))));
        Assert.Null(LaunchEnvironment.Resolve(LaunchMode.Threads, Env(("RANK", "0"), ("WORLD_SIZE", "4"), ("MASTER_ADDR", "a"), ("MASTER_PORT", "1"))));
        Assert.Throws<SimInputException>(() => LaunchEnvironment.Resolve(LaunchMode.Process, Env()));
    }

    [Theory]
    [InlineData("RANK", "4", "RANK: rank 4 is not in 0..3")]
    [InlineData("RANK", "x", "RANK: 'x' is not a non-negative integer")]
    [InlineData("MASTER_PORT", "70000", "MASTER_PORT: '70000' is not a TCP port (1-65535)")]
    public void BadVariablesAreRefused(string key, string value, string message)
    {
        var vars = new Dictionary<string, string> { ["RANK"] = "0", ["WORLD_SIZE"] = "4", ["MASTER_ADDR"] = "h", ["MASTER_PORT"] = "29500" };
        vars[key] = value;
        var e = Assert.Throws<SimInputException>(() => LaunchEnvironment.Resolve(LaunchMode.Auto, k => vars.GetValueOrDefault(k)));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void OptionsNeedRankWorldAndMasterTogether()
    {
        var e = Assert.Throws<SimInputException>(() => LaunchEnvironment.Resolve(LaunchMode.Auto, Env(), rank: 1));
        Assert.Contains("--rank, --world-size and --master", e.Message);
        Assert.Throws<SimInputException>(() => LaunchEnvironment.Resolve(LaunchMode.Auto, Env(), rank: 0, worldSize: 2, master: "nohost"));
    }
}

public class RendezvousTests
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(2);

    private static ProcessLaunch At(int rank, int world, int port) => new(rank, world, rank, "127.0.0.1", port, "options", "--world-size");

    private static byte[] Id() => Enumerable.Range(0, ProcessGroup.IdBytes).Select(i => (byte)(i * 7 + 3)).ToArray();

    /// <summary>Runs ranks (each on its own thread, with the real TCP code) and returns each one's group or exception.</summary>
    private static (ProcessGroup? Group, Exception? Error)[] Join(int world, IEnumerable<int> ranks, Func<int, string> key, TimeSpan timeout, out int port)
    {
        using var listener = ProcessGroup.Listen("127.0.0.1", 0);
        var p = ((IPEndPoint)listener.LocalEndpoint).Port;
        port = p;
        var results = new (ProcessGroup?, Exception?)[world];
        var threads = ranks.Select(r => new Thread(() =>
        {
            try { results[r] = (ProcessGroup.Join(At(r, world, p), key(r), timeout, Id, r == 0 ? listener : null), null); }
            catch (Exception e) { results[r] = (null, e); }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(20)), "a rank hung"));
        return results;
    }

    [Fact]
    public void EveryRankGetsRankZerosIdThenBarriersExchangesAndGathersWork()
    {
        const int world = 4;
        var r = Join(world, Enumerable.Range(0, world), _ => "key", TimeSpan.FromSeconds(10), out _);
        var groups = r.Select(x => x.Group ?? throw x.Error!).ToArray();
        try
        {
            Assert.All(groups, g => Assert.Equal(Id(), g.UniqueId));
            var sums = new byte[world][];
            var gathered = new byte[]?[]?[world];
            var threads = groups.Select(g => new Thread(() =>
            {
                g.Barrier();
                // Each rank sends its rank; rank 0 replies to each with the sum plus the destination.
                sums[g.Rank] = g.Exchange([(byte)g.Rank], all => all.Select((_, d) => new[] { (byte)(all.Sum(b => b[0]) + d) }).ToArray(), "test");
                g.Barrier();
                gathered[g.Rank] = g.GatherResults([(byte)(10 + g.Rank)], false, out var missing);
                Assert.Null(missing);
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromSeconds(10))));
            for (var k = 0; k < world; k++) Assert.Equal(6 + k, sums[k][0]);
            Assert.Equal([10, 11, 12, 13], gathered[0]!.Select(b => (int)b![0]));
            Assert.All(gathered.Skip(1), Assert.Null);
            groups[0].End(0);
            Assert.All(groups.Skip(1), g => Assert.Equal(0, g.WaitForEnd()));
        }
        finally { foreach (var g in groups) g.Dispose(); }
    }

    [Fact]
    public void AMissingPeerTimesOutNamingTheRanksOnEverySide()
    {
        var clock = Stopwatch.StartNew();
        var r = Join(4, [0, 1, 3], _ => "key", Short, out var port);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"took {clock.Elapsed}");
        var e0 = Assert.IsType<RankFailureException>(r[0].Error);
        Assert.Equal($"rank 0: rendezvous: waited 2 s on 127.0.0.1:{port} for ranks 2 (check that every process started, with the same MASTER_ADDR/MASTER_PORT)", e0.Message);
        var e1 = Assert.IsType<RankFailureException>(r[1].Error);
        Assert.Equal(1, e1.Rank);
        Assert.Contains("refused by rank 0: rank 0 gave up: waited 2 s", e1.Message);
        Assert.Contains("for ranks 2", e1.Message);
    }

    [Fact]
    public void ARankWhoseRankZeroNeverListensTimesOut()
    {
        int port;
        using (var l = ProcessGroup.Listen("127.0.0.1", 0)) { port = ((IPEndPoint)l.LocalEndpoint).Port; l.Stop(); }
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<RankFailureException>(() => ProcessGroup.Join(At(1, 2, port), "key", TimeSpan.FromSeconds(1), Id));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        Assert.StartsWith($"rank 1: rendezvous: waited 1 s for rank 0 to listen on 127.0.0.1:{port}", e.Message);
    }

    [Fact]
    public void AMismatchedRunKeyFailsClearly()
    {
        var r = Join(2, [0, 1], rank => rank == 1 ? "ffffffffffffffff" : "0000000000000000", Short, out _);
        var e0 = Assert.IsType<RankFailureException>(r[0].Error);
        Assert.Equal("rank 0: rendezvous: rank 1 has run key ffffffffffff, rank 0 has 000000000000: the processes were given different topology, workload or plan files or settings", e0.Message);
        var e1 = Assert.IsType<RankFailureException>(r[1].Error);
        Assert.Contains("refused by rank 0: rank 1 has run key", e1.Message);
    }

    [Fact]
    public void APeerThatVanishesCancelsTheOthersInsteadOfHanging()
    {
        var r = Join(3, [0, 1, 2], _ => "key", TimeSpan.FromSeconds(30), out _);
        var groups = r.Select(x => x.Group ?? throw x.Error!).ToArray();
        try
        {
            groups[2].Dispose(); // rank 2's process "exits"
            var clock = Stopwatch.StartNew();
            var e0 = Assert.Throws<RankCancelledException>(() => groups[0].Barrier());
            Assert.Equal(0, e0.Rank);
            Assert.Contains("connection to rank 2 closed", groups[0].CancelReason);
            Assert.Equal(2, groups[0].FirstFailedRank);
            // Rank 0 told rank 1 to stop.
            Assert.Throws<RankCancelledException>(() => groups[1].Barrier());
            Assert.Contains("connection to rank 2 closed", groups[1].CancelReason);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));
        }
        finally { foreach (var g in groups) g.Dispose(); }
    }
}

/// <summary>`harness run` with one rank per process: threads standing in for processes, and two real processes.</summary>
public class MultiProcessRunTests
{
    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static (int Code, string Out, string Err) Harness(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var code = HarnessApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }

    [Fact]
    public void AWorldSizeThatIsNotTheTopologysGpuCountIsRefused()
    {
        var (t, w, p, dir) = TestScenarios.WriteFiles(TestScenarios.Topology(2), TestScenarios.Workload("sgd"), TestScenarios.PlanFor("row_wise", 2));
        try
        {
            var (code, _, err) = Harness("run", t, w, p, "--device", "cpu", "--rank", "0", "--world-size", "3", "--master", "127.0.0.1:1");
            Assert.Equal(HarnessApp.BadInput, code);
            Assert.Equal("error: --world-size: 3 processes were launched but topology.yaml has 2 GPUs; launch one process per GPU", err.Trim());
        }
        finally { Directory.Delete(dir, true); }
    }

    /// <summary>Runs `harness run` for every rank on its own thread (each as its own process would), returns each one's result.</summary>
    private static (int Code, string Out, string Err)[] RunRanks(int world, string t, string w, string p, params string[] extra)
    {
        var port = FreePort();
        var results = new (int, string, string)[world];
        var threads = Enumerable.Range(0, world).Select(r => new Thread(() =>
            results[r] = Harness(["run", t, w, p, "--device", "cpu", "--rank", r.ToString(), "--world-size", world.ToString(),
                "--master", $"127.0.0.1:{port}", "--rendezvous-timeout", "10", .. extra]))).ToList();
        threads.ForEach(x => x.Start());
        threads.ForEach(x => Assert.True(x.Join(TimeSpan.FromSeconds(60)), "a rank hung"));
        return results;
    }

    [Fact]
    public void OneRankPerProcessTrainsExactlyAsThreadsDo()
    {
        var (t, w, p, dir) = TestScenarios.WriteFiles(TestScenarios.Topology(4), TestScenarios.Workload("rowwise_adagrad"), TestScenarios.PlanFor("mixed", 4));
        try
        {
            var threaded = Path.Combine(dir, "threads.json");
            var r = Harness("run", t, w, p, "--device", "cpu", "--iterations", "3", "--warmup", "1", "--out", threaded);
            Assert.True(r.Code == 0, r.Err);
            var multi = Path.Combine(dir, "multi.json");
            var rs = RunRanks(4, t, w, p, "--iterations", "3", "--warmup", "1", "--out", multi);
            Assert.All(rs, x => Assert.True(x.Code == 0, x.Err));
            var a = Assert.Single(MeasurementJson.ReadFile(threaded)).EndToEnd!;
            var m = Assert.Single(MeasurementJson.ReadFile(multi));
            Assert.Equal(MeasurementStatus.OkState, m.Status.State);
            var b = m.EndToEnd!;
            Assert.Equal(4, b.RankPhaseMedians.Count);
            Assert.Equal(a.PerIteration.Select(x => x.Loss), b.PerIteration.Select(x => x.Loss));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AFailureOnOneProcessIsReportedByRankZeroAndEveryProcessExits()
    {
        var (t, w, p, dir) = TestScenarios.WriteFiles(TestScenarios.Topology(2), TestScenarios.Workload("sgd"), TestScenarios.PlanFor("row_wise", 2));
        try
        {
            // Rank 1 fails in all_to_all_forward of iteration index 3: warm-up 1, so 2 measured iterations finished.
            RankTrainer.InjectFault.Value = (rank, phase, it) => rank == 1 && phase == 2 && it == 3;
            var outFile = Path.Combine(dir, "m.json");
            var clock = Stopwatch.StartNew();
            var rs = RunRanks(2, t, w, p, "--iterations", "5", "--warmup", "1", "--out", outFile);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
            Assert.All(rs, x => Assert.True(x.Code == HarnessApp.RunFailed, x.Err));
            Assert.Contains("error: rank 1: all_to_all_forward", rs[0].Err);
            CommandTests.AssertInjectedFaultRecorded(outFile);
        }
        finally
        {
            RankTrainer.InjectFault.Value = null;
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task TwoRealProcessesOnLoopbackEqualTheThreadedRun()
    {
        var (t, w, p, dir) = TestScenarios.WriteFiles(TestScenarios.Topology(2), TestScenarios.Workload("sgd"), TestScenarios.PlanFor("mixed", 2));
        try
        {
            var threaded = Path.Combine(dir, "threads.json");
            var r = Harness("run", t, w, p, "--device", "cpu", "--iterations", "3", "--warmup", "1", "--out", threaded);
            Assert.True(r.Code == 0, r.Err);

            var harnessDll = Path.Combine(AppContext.BaseDirectory, "harness.dll");
            Assert.True(File.Exists(harnessDll), harnessDll);
            var dotnet = Environment.ProcessPath is { } pp && Path.GetFileNameWithoutExtension(pp) == "dotnet" ? pp : "dotnet";
            var port = FreePort();
            var multi = Path.Combine(dir, "multi.json");
            var procs = Enumerable.Range(0, 2).Select(rank =>
            {
                var psi = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
                foreach (var a in new[] { harnessDll, "run", t, w, p, "--device", "cpu", "--iterations", "3", "--warmup", "1", "--out", multi, "--rendezvous-timeout", "20" })
                    psi.ArgumentList.Add(a);
                psi.Environment["RANK"] = rank.ToString();
                psi.Environment["LOCAL_RANK"] = rank.ToString();
                psi.Environment["WORLD_SIZE"] = "2";
                psi.Environment["MASTER_ADDR"] = "127.0.0.1";
                psi.Environment["MASTER_PORT"] = port.ToString();
                var proc = Process.Start(psi)!;
                var err = proc.StandardError.ReadToEndAsync();
                var outp = proc.StandardOutput.ReadToEndAsync();
                return (proc, err, outp);
            }).ToList();
            foreach (var (proc, err, _) in procs)
            {
                if (!proc.WaitForExit(TimeSpan.FromSeconds(60))) { proc.Kill(); Assert.Fail("a process hung"); }
                Assert.True(proc.ExitCode == 0, await err);
            }
            Assert.Contains("rank 1 of 2 (torchrun, cpu:0)", await procs[1].err);
            var a = Assert.Single(MeasurementJson.ReadFile(threaded)).EndToEnd!;
            var m = Assert.Single(MeasurementJson.ReadFile(multi));
            Assert.Equal(MeasurementStatus.OkState, m.Status.State);
            Assert.Equal(2, m.EndToEnd!.RankPhaseMedians.Count);
            Assert.Equal(a.PerIteration.Select(x => x.Loss), m.EndToEnd.PerIteration.Select(x => x.Loss));
        }
        finally { Directory.Delete(dir, true); }
    }
}
