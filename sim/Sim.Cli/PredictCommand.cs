using System.CommandLine;
using Sim.Predictions;
using Sim.Report;
using Spectre.Console;

namespace Sim.Cli;

/// <summary>`sim predict TOPOLOGY WORKLOAD [PLAN]`: one iteration's time, its breakdown and memory per GPU.</summary>
internal static class PredictCommand
{
    public static Command Create(TextWriter stdout)
    {
        var topology = new Argument<string>("topology") { Description = "cluster description (YAML or JSON), e.g. topologies/zionex-16node.yaml" };
        var workload = new Argument<string>("workload") { Description = "model description, e.g. workloads/dlrm-small.yaml" };
        var plan = new Argument<string?>("plan") { Description = "sharding plan; without it the --planner makes one", Arity = ArgumentArity.ZeroOrOne };
        var planner = new Option<string>("--planner") { Description = "planner used when no plan file is given", DefaultValueFactory = _ => "greedy" };
        planner.AcceptOnlyFromAmong([.. Scenario.Planners]);
        var json = new Option<bool>("--json") { Description = "print the prediction as one JSON object" };
        var mode = ModeOption.Create("analytical: closed-form critical path, no contention (fast); event: discrete-event simulation with flow-level network contention");
        var trace = new Option<string?>("--trace") { Description = "write a Chrome/Perfetto trace of the iteration (JSON; open in ui.perfetto.dev)" };
        var plot = new Option<string?>("--plot") { Description = "draw the iteration as a Gantt chart (.png or .svg)" };
        var profile = ModeOption.Profile();
        var stack = ModeOption.Stack();
        var conditions = new ConditionsOptions();
        var cmd = new Command("predict", "Predict one training iteration: time, samples/s, per-phase breakdown, memory per GPU; " +
            "under non-ideal conditions (stragglers and jitter, background traffic, degraded links) a distribution and the pacing rank.")
        {
            topology, workload, plan, planner, json, mode, trace, plot, profile, stack,
        };
        foreach (var o in conditions.All) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            var under = conditions.Parse(r);
            var predictor = ModeOption.Predictor(r.GetValue(profile), ModeOption.StackFor(r.GetValue(stack), r.GetValue(workload)!));
            var scenario = Scenario.Load(r.GetValue(topology)!, r.GetValue(workload)!, r.GetValue(plan), r.GetValue(planner), predictor);
            var tracePath = r.GetValue(trace);
            var plotPath = r.GetValue(plot);
            var (prediction, timeline, engine) = predictor.Run(scenario, ModeOption.Parse(r.GetValue(mode)), recordFlows: tracePath is not null, conditions: under);
            var flows = engine?.Flows ?? [];
            var stats = engine?.Stats;
            if (tracePath is not null)
            {
                AtomicFile.Write(tracePath, f => ChromeTrace.Write(f, scenario.Cluster, timeline, flows));
            }
            if (plotPath is not null)
                TimelinePlot.Save(plotPath, scenario.Cluster, timeline, prediction.CriticalPath,
                    $"{prediction.Workload} on {prediction.Topology}: {Units.Seconds(prediction.IterationSeconds)} per iteration ({prediction.Mode.Word()})");
            if (r.GetValue(json)) stdout.WriteLine(PredictionJson.Write(prediction));
            else
            {
                Render(prediction, stdout);
                if (Sim.Planning.TierChoice.Describe(scenario.Plan) is { } tiers) stdout.WriteLine($"memory tiers:     {tiers}");
                if (stats is not null)
                    stdout.WriteLine($"network flows:    {stats.Flows.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)} ({stats.FlowModel})");
                if (tracePath is not null) stdout.WriteLine($"trace written to {tracePath}");
                if (plotPath is not null) stdout.WriteLine($"timeline plot written to {plotPath}");
            }
            return 0;
        });
        return cmd;
    }

    private static void Render(Prediction p, TextWriter stdout)
    {
        var console = Terminal.For(stdout);
        console.MarkupLine($"[bold]{Markup.Escape(p.Workload)}[/] on [bold]{Markup.Escape(p.Topology)}[/] ({p.WorldSize} GPUs), plan [bold]{Markup.Escape(p.Plan)}[/], {p.Mode.Word()} model");
        var table = new Table().AddColumn("phase").AddColumn(new TableColumn("time").RightAligned()).AddColumn(new TableColumn("share").RightAligned()).AddColumn("kind");
        foreach (var ph in p.Phases)
            table.AddRow(ph.Name, Units.Seconds(ph.Seconds), (ph.Seconds / p.IterationSeconds).ToString("P1", System.Globalization.CultureInfo.InvariantCulture), ph.IsCommunication ? "communication" : "compute");
        table.AddRow("[bold]iteration[/]", $"[bold]{Units.Seconds(p.IterationSeconds)}[/]", "100.0 %", "");
        console.Write(table);
        // Right under the number: where the inputs sit in the model's weakest places.
        foreach (var w in p.OutOfModel ?? []) stdout.WriteLine($"out of model:     {w}");
        if (p.ErrorBand is { } band)
            stdout.WriteLine($"error band:       ±{band.ToString("P1", System.Globalization.CultureInfo.InvariantCulture)} ({Units.Seconds(p.IterationSeconds * (1 - band))} .. {Units.Seconds(p.IterationSeconds * (1 + band))}), the largest iteration error of the calibration runs");
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        stdout.WriteLine($"samples/s:        {p.SamplesPerSecond.ToString("N0", inv)}");
        stdout.WriteLine($"bottleneck phase: {p.BottleneckPhase}");
        stdout.WriteLine($"communication:    {Units.Seconds(p.ExposedCommunicationSeconds)} exposed ({(p.ExposedCommunicationSeconds / p.IterationSeconds).ToString("P1", inv)} of the iteration), {Units.Seconds(p.HiddenCommunicationSeconds)} hidden behind compute");
        stdout.WriteLine($"memory per GPU:   max {Units.Bytes(p.MemoryBytesMax)}, mean {Units.Bytes(p.MemoryBytesMean)} of {Units.Bytes(p.MemoryCapacityBytesPerGpu)}");
        stdout.WriteLine($"cost parameters:  {p.CostSource}");
        if (p.Stack is { } stack) stdout.WriteLine($"stack:            {stack}");
        foreach (var e in p.Extrapolations ?? []) stdout.WriteLine($"extrapolation:    {e}");
        RenderConditions(p, stdout);
    }

    /// <summary>The conditions, the distribution of iteration times and the rank that set the pace.</summary>
    private static void RenderConditions(Prediction p, TextWriter stdout)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        foreach (var c in p.Conditions ?? []) stdout.WriteLine($"conditions:       {c}");
        if (p.Distribution is { } d)
        {
            var n = d.Seconds.Count;
            stdout.WriteLine(n == 1
                ? $"distribution:     one iteration (nothing random): {Units.Seconds(d.P50)}, {(p.GlobalBatchSize / d.P50).ToString("N0", inv)} samples/s"
                : $"distribution:     {n.ToString(inv)} iterations: p50 {Units.Seconds(d.P50)}, p90 {Units.Seconds(d.P90)}, p99 {Units.Seconds(d.P99)} " +
                  $"(mean {Units.Seconds(d.Mean)}, {Units.Seconds(d.Min)} .. {Units.Seconds(d.Max)}); p50 {(p.GlobalBatchSize / d.P50).ToString("N0", inv)} samples/s");
            if (d.PacingRank >= 0)
                stdout.WriteLine($"pacing rank:      {d.PacingWhere} " +
                    $"has the most compute on the critical path in {d.PacingShare.ToString("P0", inv)} of the iterations");
            else stdout.WriteLine("pacing rank:      none: the critical path is all communication");
        }
        if (p.BusiestLink is { } l)
            stdout.WriteLine($"pacing link:      {l.From} -> {l.To} ({l.Tier}), busy {Units.Seconds(l.BusySeconds)} of the {Units.Seconds(p.IterationSeconds)} iteration " +
                $"({(l.BusySeconds / p.IterationSeconds).ToString("P0", inv)}): the busiest link at the job's share of it");
        foreach (var note in p.Notes ?? []) stdout.WriteLine($"note:             {note}");
    }
}
