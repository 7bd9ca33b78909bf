using Sim.Harness.Backends;

namespace Sim.Harness.Distributed;

/// <summary>Runs this process's one rank on its own thread and sorts out how it ended.</summary>
internal static class ProcessRank
{
    /// <summary>How long a rank may take to unwind after the run was cancelled before the process stops waiting for it.</summary>
    public static TimeSpan UnwindTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs <paramref name="body"/> on a rank thread. Throws <see cref="RankCancelledException"/> when the rank
    /// stopped because another rank failed (the run was cancelled), or a <see cref="RankFailureException"/> for a
    /// failure of this rank (which then cancels the others).
    /// </summary>
    public static void Run(ProcessGroup group, Action body)
    {
        var rank = group.Rank;
        Exception? caught = null;
        var thread = new Thread(() =>
        {
            try { body(); }
            catch (Exception e) { caught = e; }
        }, 16 * 1024 * 1024)
        {
            IsBackground = true,
            Name = $"rank {rank}",
        };
        thread.Start();
        while (!thread.Join(TimeSpan.FromMilliseconds(200)))
        {
            if (!group.IsCancelled) continue;
            if (!thread.Join(UnwindTimeout))
            {
                // Stuck in a call whose peer is gone: report, and leave the thread to the process's exit.
                if (group.FirstFailedRank == rank) throw new RankFailureException(rank, "rank thread", $"did not stop within {UnwindTimeout.TotalSeconds:0} s after failing");
                throw new RankCancelledException(rank, $"did not stop within {UnwindTimeout.TotalSeconds:0} s after the run was cancelled ({group.CancelReason})");
            }
            break;
        }
        switch (caught)
        {
            case null: return;
            case RankCancelledException c: throw c;
            case var e when group.IsCancelled && group.FirstFailedRank != rank:
                // A consequence of another rank's failure (e.g. NCCL aborted under it).
                throw new RankCancelledException(rank, e is RankFailureException r ? r.Call : "rank thread");
            case RankFailureException e:
                group.ReportOwnFailure(e);
                throw e;
            default:
                var f = new RankFailureException(rank, "rank thread", $"{caught.GetType().Name}: {caught.Message}", caught);
                group.ReportOwnFailure(f);
                throw f;
        }
    }
}
