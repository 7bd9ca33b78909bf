using System.Globalization;
using Sim.Config;

namespace Sim.Harness.Distributed;

/// <summary>
/// This process's place in a multi-process run (one process per GPU): its rank, the number of processes, its
/// rank on this host (the CUDA device it drives) and where rank 0 listens for the rendezvous.
/// </summary>
/// <param name="Source">Where it came from: "torchrun" (RANK, WORLD_SIZE, ...), "slurm" (SLURM_PROCID, ...) or "options" (--rank, ...).</param>
/// <param name="WorldField">The variable or option that set the world size, for error messages.</param>
public sealed record ProcessLaunch(int Rank, int WorldSize, int LocalRank, string MasterAddr, int MasterPort, string Source, string WorldField)
{
    public string Master => MasterAddr.Contains(':') ? $"[{MasterAddr}]:{MasterPort}" : $"{MasterAddr}:{MasterPort}";
}

/// <summary>How `harness run` places its ranks.</summary>
public enum LaunchMode
{
    /// <summary>One process per rank when the environment or options say so (and the world is larger than 1), else threads.</summary>
    Auto,
    /// <summary>Every rank a thread of this process, whatever the environment says.</summary>
    Threads,
    /// <summary>One rank in this process; the environment or options must say which.</summary>
    Process,
}

/// <summary>Reads the rank of this process from torchrun's or Slurm's environment, or from --rank/--world-size/--master.</summary>
public static class LaunchEnvironment
{
    public static LaunchMode ParseMode(string text) => text switch
    {
        "auto" => LaunchMode.Auto,
        "threads" => LaunchMode.Threads,
        "process" => LaunchMode.Process,
        _ => throw new SimInputException("--launch", "", $"'{text}' is not a launch mode; expected auto, threads or process"),
    };

    /// <summary>
    /// The launch this process is part of, or null to run every rank as a thread of this process. Options win over
    /// torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT), which win over Slurm's
    /// (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; Slurm sets no rendezvous address, so MASTER_ADDR and MASTER_PORT
    /// are required there too). In auto mode a world of one process runs threads as usual.
    /// Incomplete or malformed settings are bad input (<see cref="SimInputException"/>).
    /// </summary>
    public static ProcessLaunch? Resolve(LaunchMode mode, Func<string, string?> env, int? rank = null, int? worldSize = null, string? master = null, int? localRank = null)
    {
        if (mode == LaunchMode.Threads) return null;
        ProcessLaunch? launch;
        if (rank is not null || worldSize is not null || master is not null || localRank is not null)
        {
            if (rank is null || worldSize is null || master is null)
                throw new SimInputException("--rank", "", "a multi-process launch by options needs --rank, --world-size and --master ADDR:PORT together");
            var (addr, port) = ParseMaster(master);
            var local = localRank ?? Int(env, "LOCAL_RANK", optional: true) ?? Int(env, "SLURM_LOCALID", optional: true) ?? rank.Value;
            launch = Check(new ProcessLaunch(rank.Value, worldSize.Value, local, addr, port, "options", "--world-size"), "--rank", "--local-rank");
        }
        else if (Has(env, "RANK") || Has(env, "WORLD_SIZE"))
        {
            var r = Int(env, "RANK")!.Value;
            var w = Int(env, "WORLD_SIZE")!.Value;
            var (addr, port) = MasterFromEnv(env, "torchrun (RANK, WORLD_SIZE)");
            launch = Check(new ProcessLaunch(r, w, Int(env, "LOCAL_RANK", optional: true) ?? r, addr, port, "torchrun", "WORLD_SIZE"), "RANK", "LOCAL_RANK");
        }
        else if (Has(env, "SLURM_PROCID") && Has(env, "SLURM_NTASKS"))
        {
            var r = Int(env, "SLURM_PROCID")!.Value;
            var w = Int(env, "SLURM_NTASKS")!.Value;
            if (w <= 1 && mode == LaunchMode.Auto) return null;
            var (addr, port) = MasterFromEnv(env, "Slurm (SLURM_PROCID, SLURM_NTASKS)");
            launch = Check(new ProcessLaunch(r, w, Int(env, "SLURM_LOCALID", optional: true) ?? r, addr, port, "slurm", "SLURM_NTASKS"), "SLURM_PROCID", "SLURM_LOCALID");
        }
        else launch = null;

        if (launch is null)
        {
            if (mode == LaunchMode.Process)
                throw new SimInputException("--launch", "", "process: no rank given; set RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR/MASTER_PORT (torchrun), run under srun with MASTER_ADDR/MASTER_PORT, or pass --rank, --world-size and --master");
            return null;
        }
        return launch.WorldSize == 1 && mode == LaunchMode.Auto ? null : launch;
    }

    private static bool Has(Func<string, string?> env, string name) => !string.IsNullOrWhiteSpace(env(name));

    private static int? Int(Func<string, string?> env, string name, bool optional = false)
    {
        var text = env(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            if (optional) return null;
            throw new SimInputException(name, "", "is not set (a multi-process launch needs it)");
        }
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v))
            throw new SimInputException(name, "", $"'{text}' is not a non-negative integer");
        return v;
    }

    private static (string Addr, int Port) MasterFromEnv(Func<string, string?> env, string launcher)
    {
        var addr = env("MASTER_ADDR");
        var port = env("MASTER_PORT");
        if (string.IsNullOrWhiteSpace(addr) || string.IsNullOrWhiteSpace(port))
            throw new SimInputException("MASTER_ADDR", "",
                $"{launcher} is set but MASTER_ADDR and MASTER_PORT are not: rank 0's host and a free port are needed for the rendezvous " +
                "(under Slurm: export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n1) MASTER_PORT=29500), " +
                "or pass --launch threads to run every rank in this process");
        var p = Port(port.Trim(), "MASTER_PORT");
        // HARNESS_MASTER_PORT, the same on every rank, overrides. torchrun's agent already serves its own store on
        // MASTER_PORT (it tells workers so with TORCHELASTIC_USE_AGENT_STORE=True), so the harness takes the next port.
        var own = env("HARNESS_MASTER_PORT");
        if (!string.IsNullOrWhiteSpace(own)) return (addr.Trim(), Port(own.Trim(), "HARNESS_MASTER_PORT"));
        var agentStore = env("TORCHELASTIC_USE_AGENT_STORE")?.Trim();
        if (string.Equals(agentStore, "true", StringComparison.OrdinalIgnoreCase) || agentStore == "1")
        {
            if (p == 65535) throw new SimInputException("MASTER_PORT", "", "torchrun's store has port 65535, so the harness has no next port: set HARNESS_MASTER_PORT");
            p++;
        }
        return (addr.Trim(), p);
    }

    /// <summary>"host:port", "1.2.3.4:port" or "[::1]:port".</summary>
    public static (string Addr, int Port) ParseMaster(string text)
    {
        var i = text.LastIndexOf(':');
        if (i <= 0 || i == text.Length - 1)
            throw new SimInputException("--master", "", $"'{text}' is not ADDR:PORT");
        var addr = text[..i];
        if (addr.StartsWith('[') && addr.EndsWith(']')) addr = addr[1..^1];
        return (addr, Port(text[(i + 1)..], "--master"));
    }

    private static int Port(string text, string field) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var p) && p is >= 1 and <= 65535
            ? p
            : throw new SimInputException(field, "", $"'{text}' is not a TCP port (1-65535)");

    private static ProcessLaunch Check(ProcessLaunch l, string rankField, string localField)
    {
        if (l.WorldSize < 1) throw new SimInputException(l.WorldField, "", $"must be at least 1, got {l.WorldSize}");
        if (l.Rank < 0 || l.Rank >= l.WorldSize) throw new SimInputException(rankField, "", $"rank {l.Rank} is not in 0..{l.WorldSize - 1}");
        if (l.LocalRank < 0) throw new SimInputException(localField, "", $"must be at least 0, got {l.LocalRank}");
        return l;
    }
}
