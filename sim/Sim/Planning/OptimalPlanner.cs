using Sim.Sharding;
using System.Diagnostics;
using Google.OrTools.Sat;
using Sim.Workload;

namespace Sim.Planning;

/// <summary>
/// Searches for the plan with the lowest predicted iteration time, within a time limit:
/// 1. the best of the greedy, balanced and hierarchical plans is the incumbent (so it is never worse than greedy);
/// 2. CP-SAT (OR-Tools) places the tables that fit on one GPU so as to minimise the largest per-GPU embedding
///    load (a makespan model with per-GPU memory limits), hinted with the incumbent; it reports its bound;
/// 3. local search on the analytical model itself: moves a table off the most loaded GPU, swaps tables,
///    splits a table's columns or rows, keeping every change that lowers the predicted iteration.
/// </summary>
internal sealed class OptimalPlanner : IPlanner
{
    public string Name => "optimal";
    public bool ReadsCommunicationDetails => true;

    public PlannerResult Plan(PlannerContext ctx)
    {
        var clock = Stopwatch.StartNew();
        var limit = Math.Max(0.1, ctx.TimeLimitSeconds);
        var starts = new IPlanner[] { new GreedyPlanner(), new BalancedPlanner(), new HierarchicalPlanner() }
            .Select(p => p.Plan(ctx with { PredictResult = true })).OrderBy(r => r.PredictedSeconds).ThenBy(r => r.Plan.Name, StringComparer.Ordinal).ToList();
        var greedySeconds = starts.Single(s => s.Plan.Name == "greedy").PredictedSeconds;
        var best = starts[0].Plan;
        var bestSeconds = starts[0].PredictedSeconds;
        ctx.Progress?.Report($"start: {starts[0].Plan.Name} plan, {bestSeconds * 1e3:0.000} ms predicted");

        // A budgeted search gives CP-SAT its share of the limit as deterministic time, whatever the starts took.
        var (cpPlan, proxyObjective, proxyBound, cpWhy) = SolveMakespan(ctx, best, limit * 0.4 - (ctx.Evaluations is null ? clock.Elapsed.TotalSeconds : 0));
        if (cpPlan is not null && ctx.Fits(cpPlan))
        {
            var s = ctx.Predict(cpPlan);
            ctx.Progress?.Report($"cp-sat: load makespan {proxyObjective * 1e3:0.000} ms (bound {proxyBound * 1e3:0.000} ms), plan predicts {s * 1e3:0.000} ms");
            if (s < bestSeconds) { best = cpPlan; bestSeconds = s; }
        }

        var (searched, moves, accepted) = LocalSearch(ctx, best, bestSeconds, clock, limit);
        best = searched.Plan;
        bestSeconds = searched.PredictedSeconds;
        var cp = proxyObjective > 0
            ? $"CP-SAT load makespan {proxyObjective * 1e3:0.000} ms, bound {proxyBound * 1e3:0.000} ms (gap {(proxyObjective - proxyBound) / proxyObjective:P1})"
            : cpWhy ?? "CP-SAT found no placement";
        var summary = $"{(greedySeconds - bestSeconds) / greedySeconds:P1} faster than greedy ({greedySeconds * 1e3:0.000} ms -> {bestSeconds * 1e3:0.000} ms); " +
                      $"{cp}; local search tried {moves} moves, kept {accepted}" +
                      (ctx.Evaluations is { } e ? $" (budget {e}, seed {ctx.Seed}: the same plan on any machine)" : $"; {clock.Elapsed.TotalSeconds:0.0} s") + TierChoice.Suffix(best);
        return new PlannerResult(best with { Name = Name }, bestSeconds, summary);
    }

    /// <summary>
    /// CP-SAT makespan model over the tables the incumbent places whole on one GPU in HBM (split tables stay as they
    /// are). Tables with the same load and the same bytes are interchangeable, so they form one class and n[k,r] counts
    /// the tables of class k on GPU r (the paper's models have hundreds of tables in a handful of classes: 480 tables
    /// in 4 classes for model-A, where one boolean per table and GPU, 61,440 of them, left CP-SAT without a first
    /// placement in 30 s). Each class fully placed; per-GPU memory within its free HBM; minimise the largest load.
    /// Returns why there is no plan when there is none.
    /// </summary>
    private static (ShardingPlan? Plan, double Objective, double Bound, string? Why) SolveMakespan(PlannerContext ctx, ShardingPlan incumbent, double seconds)
    {
        if (seconds <= 0.05) return (null, 0, 0, "no time left for CP-SAT after the starting plans");
        var c = ctx.Cluster;
        var world = c.WorldSize;
        var loads = new RankLoads(c, ctx.Workload, ctx.Cost);
        var movable = new List<int>();
        for (var i = 0; i < incumbent.Tables.Count; i++)
        {
            var tp = incumbent.Tables[i];
            if (tp.Scheme == ShardingScheme.TableWise && tp.Tier == MemoryTier.Hbm) movable.Add(i);
            else loads.Add(tp);
        }
        if (movable.Count == 0 || world == 1) return (null, 0, 0, world == 1 ? "one GPU: nothing for CP-SAT to place" : "CP-SAT had no whole HBM tables to place (every table is split or outside HBM)");
        // Costs in nanoseconds and bytes in kB as integers (CP-SAT is an integer solver).
        var cost = movable.Select(i => (long)Math.Ceiling(loads.TableSeconds(Placements.TableWise(incumbent.Tables[i].Table, 0)) * 1e9)).ToArray();
        var bytes = movable.Select(i => (loads.ShardBytes(Placements.TableWise(incumbent.Tables[i].Table, 0), incumbent.Tables[i].Shards[0]) + 999) / 1000).ToArray();
        var classes = Enumerable.Range(0, movable.Count).GroupBy(t => (cost[t], bytes[t])).Select(g => g.ToArray()).ToArray();
        var model = new CpModel();
        var n = new IntVar[classes.Length, world];
        var fixedLoad = loads.Load.Select(l => (long)Math.Ceiling(l * 1e9)).ToArray();
        var horizon = fixedLoad.Max() + cost.Sum();
        var makespan = model.NewIntVar(0, horizon, "makespan");
        for (var k = 0; k < classes.Length; k++)
        {
            var count = classes[k].Length;
            var hinted = new int[world];
            foreach (var t in classes[k]) hinted[incumbent.Tables[movable[t]].Shards[0].Rank]++;
            for (var r = 0; r < world; r++)
            {
                n[k, r] = model.NewIntVar(0, count, $"n{k}_{r}");
                model.AddHint(n[k, r], hinted[r]);
            }
            model.Add(LinearExpr.Sum(Enumerable.Range(0, world).Select(r => n[k, r])) == count);
        }
        for (var r = 0; r < world; r++)
        {
            var onR = Enumerable.Range(0, classes.Length).Select(k => n[k, r]).ToArray();
            model.Add(LinearExpr.WeightedSum(onR, classes.Select(g => cost[g[0]])) + fixedLoad[r] <= makespan);
            model.Add(LinearExpr.WeightedSum(onR, classes.Select(g => bytes[g[0]])) <= Math.Max(0, loads.Free[r] / 1000));
        }
        model.Minimize(makespan);
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        // With an evaluation budget: one worker and deterministic time (CP-SAT's work units), so the answer does not
        // depend on the machine's speed or load; otherwise every core for the wall-clock share.
        var solver = new CpSolver
        {
            StringParameters = ctx.Evaluations is null
                ? $"max_time_in_seconds:{seconds.ToString(inv)},num_workers:{Math.Max(1, Environment.ProcessorCount)},random_seed:{ctx.Seed}"
                : $"max_deterministic_time:{seconds.ToString(inv)},num_workers:1,random_seed:{ctx.Seed}",
        };
        var status = solver.Solve(model);
        if (status is not (CpSolverStatus.Optimal or CpSolverStatus.Feasible))
            return (null, 0, 0, $"CP-SAT found no placement of {movable.Count} whole tables ({classes.Length} classes) within its {seconds:0.0} s share of the time limit");
        var tables = incumbent.Tables.ToArray();
        for (var k = 0; k < classes.Length; k++)
        {
            var next = 0;
            for (var r = 0; r < world; r++)
                for (var m = solver.Value(n[k, r]); m > 0; m--)
                {
                    var t = classes[k][next++];
                    tables[movable[t]] = Placements.TableWise(tables[movable[t]].Table, r);
                }
        }
        return (incumbent with { Tables = tables }, solver.ObjectiveValue / 1e9, solver.BestObjectiveBound / 1e9, null);
    }

    /// <summary>First-improvement local search on the predicted iteration time, deterministic for a seed.</summary>
    private static (PlannerResult Best, int Moves, int Accepted) LocalSearch(PlannerContext ctx, ShardingPlan start, double startSeconds, Stopwatch clock, double limit)
    {
        var c = ctx.Cluster;
        var rng = new Random(ctx.Seed);
        var tables = start.Tables.ToArray();
        var (best, bestSpread) = Score(ctx, start);
        int moves = 0, accepted = 0;
        var lastReport = clock.Elapsed.TotalSeconds;
        var stale = 0;
        // Tier moves only where the start plan already keeps tables outside HBM: all-HBM plans search as before.
        var tiered = tables.Any(tp => tp.Tier != MemoryTier.Hbm);
        bool More() => ctx.Evaluations is { } budget ? moves < budget : clock.Elapsed.TotalSeconds < limit;
        while (More() && stale < 20 * Math.Max(1, tables.Length))
        {
            var loads = new RankLoads(c, ctx.Workload, ctx.Cost);
            foreach (var tp in tables) loads.Add(tp);
            var busiest = Array.IndexOf(loads.Load, loads.Max);
            var candidate = tables.ToArray();
            var onBusiest = Enumerable.Range(0, tables.Length).Where(i => tables[i].Shards.Any(s => s.Rank == busiest)).ToArray();
            var i = onBusiest.Length > 0 && rng.NextDouble() < 0.7 ? onBusiest[rng.Next(onBusiest.Length)] : rng.Next(tables.Length);
            var t = tables[i].Table;
            switch (rng.Next(tiered ? 5 : 4))
            {
                case 0: // move the table whole to a random GPU
                    candidate[i] = Kept(tables[i], Placements.TableWise(t, rng.Next(c.WorldSize)));
                    break;
                case 1: // swap two whole tables
                    var j = rng.Next(tables.Length);
                    if (tables[i].Scheme != ShardingScheme.TableWise || tables[j].Scheme != ShardingScheme.TableWise) continue;
                    candidate[i] = Kept(tables[i], Placements.TableWise(t, tables[j].Shards[0].Rank));
                    candidate[j] = Kept(tables[j], Placements.TableWise(tables[j].Table, tables[i].Shards[0].Rank));
                    break;
                case 2: // split the columns over k distinct GPUs: spreads the sender's all-to-all load
                    var k = Math.Min(c.WorldSize, Math.Min(t.Dim, 1 << rng.Next(1, 4)));
                    if (k < 2) continue;
                    candidate[i] = Kept(tables[i], Placements.ColumnWise(t, Enumerable.Range(0, c.WorldSize).OrderBy(_ => rng.Next()).Take(k).Order().ToArray()));
                    break;
                case 3: // split the rows over all GPUs or over one node
                    if (t.Rows < c.WorldSize) continue;
                    candidate[i] = Kept(tables[i], rng.Next(2) == 0 || c.GpusPerNode == 1
                        ? Placements.RowWise(t, Placements.AllRanks(c))
                        : Placements.TableRowWise(c, t, rng.Next(c.Nodes)));
                    break;
                default: // memory tiers in play: one step up or down the tier ladder (a bigger or smaller cache)
                    if (tables[i].Scheme == ShardingScheme.DataParallel) continue;
                    // SSD steps only where the tier choice already spilled to SSD: they are never faster than UVM.
                    var ladder = tables.Any(tp => tp.Tier == MemoryTier.Ssd) ? TierLadder.For(c) : TierLadder.WithoutSsd;
                    var now = TierLadder.IndexOf(ladder, tables[i]);
                    var next = Math.Clamp(now + (rng.Next(2) == 0 ? -1 : 1), 0, ladder.Count - 1);
                    if (next == now) continue;
                    candidate[i] = ladder[next].Apply(tables[i]);
                    break;
            }
            moves++;
            var plan = start with { Tables = candidate };
            if (!ctx.Fits(plan)) { stale++; continue; }
            var (seconds, spread) = Score(ctx, plan);
            // Lower predicted time wins; at equal time (many GPUs tied at the maximum), a lower spread of
            // per-GPU busy time is progress too: it is how several tied GPUs get relieved one move at a time.
            var better = seconds < best * (1 - 1e-9) || (seconds <= best * (1 + 1e-12) && spread < bestSpread * (1 - 1e-9));
            if (better) { tables = candidate; best = Math.Min(best, seconds); bestSpread = spread; accepted++; stale = 0; }
            else stale++;
            if (clock.Elapsed.TotalSeconds - lastReport >= 1)
            {
                lastReport = clock.Elapsed.TotalSeconds;
                ctx.Progress?.Report($"local search: {moves} moves, {accepted} kept, best {best * 1e3:0.000} ms");
            }
        }
        var final = start with { Tables = tables };
        return (new PlannerResult(final, ctx.Predict(final), ""), moves, accepted);
    }

    /// <summary>A new placement of a table in the tier (and with the cache) its current placement has.</summary>
    private static TablePlan Kept(TablePlan current, TablePlan moved) => moved.InTier(current.Tier, current.CacheFraction);

    /// <summary>The predicted iteration and the sum of squared per-GPU busy seconds (lower = more even).</summary>
    private static (double Seconds, double Spread) Score(PlannerContext ctx, ShardingPlan plan)
    {
        var graph = Iterations.IterationGraph.Build(ctx.Cluster, ctx.Workload, plan, ctx.Cost);
        var t = Iterations.Timeline.Analytical(graph);
        var busy = new double[ctx.Cluster.WorldSize];
        var shape = graph.Shape;
        for (var i = 0; i < shape.Count; i++)
        {
            if (shape.KindOf[i] == Iterations.TaskKind.Compute) busy[shape.RankOf[i]] += graph.Seconds(i);
            else t.AddRankSeconds(i, busy);
        }
        return (t.End, busy.Sum(x => x * x));
    }
}
