using System.CommandLine;
using System.Globalization;
using Sim.Config;
using Sim.Harness.Distributed;
using Sim.Harness.Training;
using Sim.Measurements;

namespace Sim.Harness;

/// <summary>`harness run TOPOLOGY WORKLOAD PLAN`: trains the scenario for real and writes a Measurement.</summary>
public static class RunCommand
{
    public static Command Create(string[] rawArgs, TextWriter stdout, TextWriter stderr)
    {
        var topology = new Argument<string>("topology") { Description = "cluster description, e.g. topologies/h100x4.yaml (its GPU count is the number of ranks)" };
        var workload = new Argument<string>("workload") { Description = "model description, e.g. workloads/validation/val-base.yaml" };
        var plan = new Argument<string>("plan") { Description = "sharding plan, e.g. validation/plans/val-base.4gpu.rw.yaml" };
        var device = DeviceOption();
        var iterations = new Option<int>("--iterations") { Description = "measured iterations", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "iterations run before measuring", DefaultValueFactory = _ => 5 };
        var seed = new Option<long>("--seed") { Description = "seed of tables, dense weights and data", DefaultValueFactory = _ => 1 };
        var lr = new Option<double>("--lr") { Description = "learning rate (SGD or row-wise Adagrad, as the workload says)", DefaultValueFactory = _ => 0.001 };
        var output = new Option<string?>("--out") { Description = "write the Measurement JSON here (atomically); without it, print it" };
        var compact = CompactOption();
        var stack = new Option<string>("--stack")
        {
            Description = "eager (what plain PyTorch eager does: EmbeddingBag with sparse gradients, autograd, a sparse optimizer step) " +
                          "or fused (the harness's fused embedding backward and optimizer)",
            DefaultValueFactory = _ => "eager",
        };
        var optimizer = new Option<string?>("--optimizer") { Description = "sgd or rowwise_adagrad: replaces the workload's optimizer" };
        var launchMode = new Option<string>("--launch")
        {
            Description = "auto: one rank in this process when torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), " +
                          "Slurm (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, with MASTER_ADDR and MASTER_PORT) or --rank/--world-size/--master " +
                          "say so and the world is larger than 1, else every rank a thread of this process; threads: always threads; process: require a rank",
            DefaultValueFactory = _ => "auto",
        };
        var rankOpt = new Option<int?>("--rank") { Description = "this process's rank (one process per GPU; overrides RANK/SLURM_PROCID)" };
        var worldOpt = new Option<int?>("--world-size") { Description = "number of processes, one per GPU of the topology" };
        var localOpt = new Option<int?>("--local-rank") { Description = "this process's GPU on its host (default LOCAL_RANK, SLURM_LOCALID, or the rank)" };
        var masterOpt = new Option<string?>("--master") { Description = "ADDR:PORT where rank 0 listens for the rendezvous" };
        var rvTimeout = new Option<double>("--rendezvous-timeout")
        {
            Description = "seconds a rank waits for its peers at the rendezvous, at each barrier and for the results before it fails",
            DefaultValueFactory = _ => 120,
        };
        var cmd = new Command("run", "Train the scenario for real (warm-up, then measured iterations) and report per-phase times.")
        {
            topology, workload, plan, device, iterations, warmup, seed, lr, stack, optimizer, output, compact,
            launchMode, rankOpt, worldOpt, localOpt, masterOpt, rvTimeout,
        };
        cmd.SetAction(r =>
        {
            var n = r.GetValue(iterations);
            var k = r.GetValue(warmup);
            var rate = r.GetValue(lr);
            if (n < 1) throw new SimInputException("--iterations", "", $"must be at least 1, got {n}");
            if (k < 0) throw new SimInputException("--warmup", "", $"must be at least 0, got {k}");
            if (!(rate > 0) || double.IsInfinity(rate)) throw new SimInputException("--lr", "", $"must be a positive number, got {rate}");
            var embeddingStack = EmbeddingStacks.Parse(r.GetValue(stack)!, "--stack");
            var optimizerOverride = ParseOptimizer(r.GetValue(optimizer));
            var (topoPath, workPath, planPath) = (r.GetValue(topology)!, r.GetValue(workload)!, r.GetValue(plan)!);
            var launch = LaunchEnvironment.Resolve(LaunchEnvironment.ParseMode(r.GetValue(launchMode)!), Environment.GetEnvironmentVariable,
                r.GetValue(rankOpt), r.GetValue(worldOpt), r.GetValue(masterOpt), r.GetValue(localOpt));
            var timeoutSeconds = r.GetValue(rvTimeout);
            if (!(timeoutSeconds > 0) || timeoutSeconds > 86_400)
                throw new SimInputException("--rendezvous-timeout", "", $"must be between 0 and 86400 seconds, got {timeoutSeconds}");
            // Everything Sim checks (memory per GPU, ranks that exist, batch divisibility) is refused here, before any launch.
            var scenario = Scenario.Load(topoPath, workPath, planPath);
            if (optimizerOverride is { } opt) scenario = scenario with { Workload = scenario.Workload with { Optimizer = opt } };
            HarnessApp.EnsureSupported(scenario, YamlDocument.DisplayName(workPath), YamlDocument.DisplayName(planPath));
            var dev = r.GetValue(device)!;
            var date = MeasurementJson.UtcNow();
            if (launch is not null && launch.WorldSize != scenario.Cluster.WorldSize)
                throw new SimInputException(launch.WorldField, "",
                    $"{launch.WorldSize} processes were launched but {YamlDocument.DisplayName(topoPath)} has {scenario.Cluster.WorldSize} GPUs; launch one process per GPU");
            var localDevice = 0;
            var backend = launch is null
                ? HarnessApp.CreateBackend(dev, scenario.Cluster.WorldSize, YamlDocument.DisplayName(topoPath))
                : HarnessApp.CreateProcessBackend(dev, launch, out localDevice);
            var inputs = new[]
            {
                MeasurementInput.FromFile("topology", topoPath),
                MeasurementInput.FromFile("workload", workPath),
                MeasurementInput.FromFile("plan", planPath),
            };
            var provenance = ProvenanceInfo.Collect(backend, rawArgs, date) with { Stack = embeddingStack.MeasurementName() };
            if (launch is not null && provenance.Device == "cuda")
                provenance = provenance with { GpuCount = Math.Max(provenance.GpuCount, launch.WorldSize) }; // across hosts: the run's GPUs
            var w = scenario.Workload;
            var settings = new RunSettings(scenario.Cluster.Name, w.Name, scenario.Plan.Name, scenario.Cluster.WorldSize,
                w.GlobalBatchSize, w.GlobalBatchSize / scenario.Cluster.WorldSize, k, n, r.GetValue(seed), rate,
                Workload.Optimizers.Name(w.Optimizer), Hardware.DTypes.Name(w.Precision.Compute));
            var opts = new RunOptions(n, k, r.GetValue(seed), rate, embeddingStack);
            void Progress(int it, Backends.IterationTiming t, double loss)
            {
                if (it == 0 || it == opts.Warmup || it == opts.Total - 1)
                    stderr.WriteLine(FormattableString.Invariant($"harness: iteration {it + 1}/{opts.Total}: {t.IterationSeconds * 1e3:F2} ms, loss {loss:G6}"));
            }
            ProcessGroup? group = null;
            RunOutcome outcome;
            if (launch is null) outcome = TrainingRun.Execute(scenario, backend, opts, progress: Progress);
            else
            {
                // Every process must train the same thing: the key covers the three files and every setting.
                var key = RunKey(inputs, settings, embeddingStack, dev);
                stderr.WriteLine($"harness: rank {launch.Rank} of {launch.WorldSize} ({launch.Source}, {dev}:{localDevice}): rendezvous at {launch.Master}");
                group = ProcessGroup.Join(launch, key, TimeSpan.FromSeconds(timeoutSeconds),
                    dev == "cuda" ? Backends.GpuBackend.NewUniqueId : () => System.Security.Cryptography.RandomNumberGenerator.GetBytes(ProcessGroup.IdBytes));
                var got = TrainingRun.ExecuteProcess(scenario, backend, group, localDevice, opts, progress: Progress);
                if (got is null)
                {
                    // Not rank 0: rank 0 writes the measurement; end with its exit code once it has.
                    using (group)
                    {
                        var end = group.WaitForEnd();
                        if (end is { } c) return c;
                        stderr.WriteLine($"error: rank {launch.Rank}: end: rank 0 did not confirm the end of the run within {timeoutSeconds:0.###} s");
                        return HarnessApp.RunFailed;
                    }
                }
                outcome = got;
            }
            try
            {
                return Report(outcome);
            }
            finally
            {
                group?.Dispose();
            }

            int Report(RunOutcome outcome)
            {
                var e2e = TrainingRun.Summarise(outcome, w.GlobalBatchSize);
                var status = outcome.Failure is { } f ? MeasurementStatus.Failed(f.Rank, f.Call, f.Error) : MeasurementStatus.Ok;
                var m = new Measurement(MeasurementJson.SchemaVersion, MeasurementKinds.Run, provenance, inputs, status, settings, e2e, null);
                var outPath = r.GetValue(output);
                if (outPath is not null)
                {
                    MeasurementJson.WriteFile(outPath, m, indented: !r.GetValue(compact));
                    Summary(m, stdout);
                }
                else
                {
                    stdout.WriteLine(MeasurementJson.Write(m, indented: !r.GetValue(compact)));
                    Summary(m, stderr);
                }
                var code = 0;
                if (outcome.Failure is { } failure)
                {
                    stderr.WriteLine($"error: {failure.Message}");
                    code = HarnessApp.RunFailed;
                }
                group?.End(code);
                return code;
            }
        });
        return cmd;
    }

    /// <summary>SHA-256 of the inputs' hashes and every setting that changes what is trained: mismatched launches fail at the rendezvous.</summary>
    public static string RunKey(IEnumerable<MeasurementInput> inputs, RunSettings settings, EmbeddingStack stack, string device)
    {
        var text = string.Join("\n", inputs.Select(i => $"{i.Role}:{i.Sha256}")) + "\n" +
                   string.Join("\n", System.Text.Json.JsonSerializer.Serialize(settings),
                       stack.MeasurementName(), device);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
    }

    private static Workload.Optimizer? ParseOptimizer(string? text) =>
        text is null ? null
        : Workload.Optimizers.Words.TryGetValue(text, out var o) ? o
        : throw new SimInputException("--optimizer", "", $"'{text}' is not an optimizer; expected {string.Join(" or ", Workload.Optimizers.Words.Keys)}");

    public static Option<bool> CompactOption() => new("--compact") { Description = "write the JSON on one line" };

    public static Option<string> DeviceOption()
    {
        var device = new Option<string>("--device") { Description = "cuda (one rank per GPU, NCCL) or cpu (one thread per rank)", DefaultValueFactory = _ => "cuda" };
        device.AcceptOnlyFromAmong([.. Backends.Backend.Names]);
        return device;
    }

    private static void Summary(Measurement m, TextWriter o)
    {
        var inv = CultureInfo.InvariantCulture;
        var s = m.Run!;
        o.WriteLine($"{s.Workload} on {s.Topology} ({s.WorldSize} ranks, {m.Provenance.Device}: {m.Provenance.GpuModel}), plan {s.Plan}: {m.Status.State}");
        if (m.EndToEnd is not { } e) return;
        o.WriteLine($"{"phase",-22} {"median ms",10} {"min ms",10} {"max ms",10}");
        foreach (var p in e.Phases)
            o.WriteLine(string.Format(inv, "{0,-22} {1,10:F3} {2,10:F3} {3,10:F3}", p.Name, p.Median * 1e3, p.Min * 1e3, p.Max * 1e3));
        o.WriteLine(string.Format(inv, "{0,-22} {1,10:F3} {2,10:F3} {3,10:F3}", "iteration", e.Iteration.Median * 1e3, e.Iteration.Min * 1e3, e.Iteration.Max * 1e3));
        o.WriteLine(string.Format(inv, "{0,-22} {1,10:F3} {2,10:F3} {3,10:F3}", "host overhead", e.HostOverhead.Median * 1e3, e.HostOverhead.Min * 1e3, e.HostOverhead.Max * 1e3));
        o.WriteLine(string.Format(inv, "{0} measured iterations; {1:N0} samples/s; host overhead {2:P1} of the iteration; loss {3:G5} -> {4:G5}",
            e.MeasuredIterations, e.SamplesPerSecond, e.HostOverheadFraction, e.PerIteration[0].Loss, e.PerIteration[^1].Loss));
    }
}
