using System.CommandLine;
using Sim.Config;
using Sim.Harness.Backends;
using Sim.Sharding;
using Sim.Workload;
using Sim.Hardware;

namespace Sim.Harness;

/// <summary>The `harness` command: replays Sim scenarios for real (`run`) and measures the building blocks (`micro`).</summary>
public static class HarnessApp
{
    /// <summary>Bad input: files, fields, plans that do not fit, more ranks than GPUs. Nothing was launched.</summary>
    public const int BadInput = 2;
    /// <summary>A run or benchmark failed on a rank; the measurement written says where.</summary>
    public const int RunFailed = 1;
    public const int InternalError = 70;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("harness: runs a Sim (topology, workload, plan) for real with TorchSharp (GPU via NCCL, or CPU) and measures it.");
        root.Subcommands.Add(RunCommand.Create(args, stdout, stderr));
        root.Subcommands.Add(MicroCommand.Create(args, stdout, stderr));
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        try
        {
            return root.Parse(args).Invoke(config);
        }
        catch (SimInputException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        catch (RankFailureException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return RunFailed;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"internal error: {e.GetType().Name}: {e.Message} (this is a bug in the harness; please report it with the command line)");
            return InternalError;
        }
    }

    /// <summary>Creates the backend for --device; a CUDA backend that cannot load or sees no GPU is bad input (exit 2).</summary>
    public static IBackend CreateBackend(string device, int neededRanks, string topologyName)
    {
        IBackend backend;
        try { backend = Backend.Create(device); }
        catch (Exception e) when (e is not SimInputException)
        {
            throw new SimInputException("--device", "", $"device '{device}' is not available here: {FirstLine(e.Message)}");
        }
        if (neededRanks > backend.MaxWorld)
            throw new SimInputException(topologyName, "gpus_per_node",
                device == "cuda"
                    ? $"the cluster has {neededRanks} GPUs but this machine has {backend.MaxWorld} CUDA device{(backend.MaxWorld == 1 ? "" : "s")}"
                    : $"the cluster has {neededRanks} GPUs; the CPU backend runs at most {backend.MaxWorld} ranks");
        return backend;
    }

    /// <summary>
    /// The backend for one rank of a multi-process run, and the device it drives: LOCAL_RANK on cuda (or the only
    /// visible GPU when CUDA_VISIBLE_DEVICES leaves one per process). Bad input (exit 2) when there is no such GPU.
    /// </summary>
    public static IBackend CreateProcessBackend(string device, Distributed.ProcessLaunch launch, out int localDevice)
    {
        IBackend backend;
        try { backend = Backend.Create(device); }
        catch (Exception e) when (e is not SimInputException)
        {
            throw new SimInputException("--device", "", $"device '{device}' is not available here: {FirstLine(e.Message)}");
        }
        localDevice = 0;
        if (device != "cuda") return backend;
        var localField = launch.Source switch { "torchrun" => "LOCAL_RANK", "slurm" => "SLURM_LOCALID", _ => "--local-rank" };
        if (backend.MaxWorld == 0)
            throw new SimInputException("--device", "", $"rank {launch.Rank}: this machine has no CUDA device");
        if (launch.LocalRank < backend.MaxWorld) localDevice = launch.LocalRank;
        else if (backend.MaxWorld == 1) localDevice = 0; // one GPU visible per process (CUDA_VISIBLE_DEVICES)
        else
            throw new SimInputException(localField, "", $"rank {launch.Rank}: local rank {launch.LocalRank} but this machine has {backend.MaxWorld} CUDA devices");
        return backend;
    }

    private static string FirstLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? s;

    /// <summary>
    /// What the harness can train: fp32 (or TF32) compute and fp32 tables, communication in fp32, fp16 or bf16,
    /// int32 indices only for tables that int32 can address, and data-parallel tables replicated on every rank.
    /// </summary>
    public static void EnsureSupported(Scenario s, string workloadName, string planName)
    {
        var w = s.Workload;
        // The plain DLRM only: bottom MLP, one pooled vector per table, dot interaction, top MLP.
        if (w.Interaction != Interaction.Dot)
            throw new SimInputException(workloadName, "interaction", $"the harness trains the dot interaction only, not {w.Interaction}");
        if (w.InteractionVectors != w.Tables.Count + 1 || w.DenseParameters != w.DenseLayers.Sum(l => l.Parameters))
            throw new SimInputException(workloadName, "", "the harness trains plain DLRMs only (bottom MLP, one pooled vector per table, dot interaction, top MLP)");
        if (w.Precision.Compute is not (DType.Fp32 or DType.Tf32))
            throw new SimInputException(workloadName, "precision.compute", $"the harness trains in fp32 or tf32, not {w.Precision.Compute.Name()}");
        foreach (var (key, dt) in new[] { ("all_to_all_forward", w.Precision.AllToAllForward), ("all_to_all_backward", w.Precision.AllToAllBackward), ("all_reduce", w.Precision.AllReduce) })
            if (dt is not (DType.Fp32 or DType.Fp16 or DType.Bf16))
                throw new SimInputException(workloadName, $"precision.{key}", $"the harness communicates in fp32, fp16 or bf16, not {dt.Name()}");
        for (var i = 0; i < w.Tables.Count; i++)
        {
            var t = w.Tables[i];
            if (t.DType != DType.Fp32)
                throw new SimInputException(workloadName, $"tables.{t.Name}.dtype", $"the harness stores tables in fp32, not {t.DType.Name()}");
            if (w.Precision.Index == DType.Int32 && t.Rows > int.MaxValue)
                throw new SimInputException(workloadName, "precision.index", $"table '{t.Name}' has {t.Rows} rows, more than int32 indices can address");
        }
        foreach (var tp in s.Plan.Tables)
            if (tp.Scheme is not (ShardingScheme.TableWise or ShardingScheme.RowWise or ShardingScheme.ColumnWise or ShardingScheme.DataParallel))
                throw new SimInputException(planName, $"tables.{tp.Table.Name}.scheme", $"the harness runs table_wise, row_wise, column_wise and data_parallel, not {tp.Scheme}");
        foreach (var tp in s.Plan.Tables)
            if (tp.Scheme == ShardingScheme.DataParallel && tp.Shards.Count != s.Cluster.WorldSize)
                throw new SimInputException(planName, $"tables.{tp.Table.Name}.ranks",
                    $"a data_parallel table must be replicated on all {s.Cluster.WorldSize} ranks, found {tp.Shards.Count}");
    }
}
