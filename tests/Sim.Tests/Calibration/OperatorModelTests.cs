using Sim.Accounting;
using Sim.Calibration;
using Sim.Cost;
using Sim.Cost.Operators;
using Sim.Iterations;
using Sim.Profiles;
using Sim.Collectives;
using Sim.Measurements;

namespace Sim.Tests;

/// <summary>Operator cost models (issue 14): their fitter recovers known forms, the GEMM grid interpolates, and the
/// eager form prices lookups, so that splitting a table by columns costs what its lookups cost.</summary>
public class OperatorModelTests
{
    private static Dictionary<string, double> Shard(double lookups, double dim, double batch) => new()
    {
        [CostTerms.Calls] = 1, [CostTerms.Lookups] = lookups, [CostTerms.LookupBytes] = lookups * dim * 4, [CostTerms.PooledBytes] = batch * dim * 4,
    };

    [Fact]
    public void Non_negative_fit_recovers_a_per_call_per_lookup_and_per_byte_form()
    {
        var x = new List<Dictionary<string, double>>();
        var y = new List<double>();
        foreach (var l in new[] { 1e4, 1e5, 1e6, 4e6 })
            foreach (var d in new[] { 32.0, 128, 256 })
            {
                x.Add(Shard(l, d, l / 8));
                y.Add(20e-6 + 0.6e-9 * l + l * d * 4 / 1.2e12);
            }
        var c = OperatorFitter.NonNegative(x, y, [CostTerms.Calls, CostTerms.Lookups, CostTerms.LookupBytes, CostTerms.PooledBytes]);
        Assert.Equal(20e-6, c.Coefficient(CostTerms.Calls), 9);
        Assert.Equal(0.6, c.Coefficient(CostTerms.Lookups) * 1e9, 9);
        Assert.Equal(1.0, c.Coefficient(CostTerms.LookupBytes) * 1.2e12, 9);
        Assert.Equal(0, c.Coefficient(CostTerms.PooledBytes));
    }

    [Fact]
    public void Non_negative_fit_never_returns_a_negative_coefficient()
    {
        // Time falls slightly with pooled bytes in this data: least squares would go negative; the fit drops the term.
        var x = new List<Dictionary<string, double>> { Shard(1e5, 64, 1e5), Shard(1e5, 64, 1e3), Shard(1e6, 64, 1e5), Shard(1e6, 64, 1e4) };
        var y = new List<double> { 1.0e-4, 1.1e-4, 1.0e-3, 1.05e-3 };
        var c = OperatorFitter.NonNegative(x, y, [CostTerms.Calls, CostTerms.Lookups, CostTerms.PooledBytes]);
        Assert.All(c.Terms.Values, v => Assert.True(v >= 0));
    }

    [Fact]
    public void Gemm_grid_is_exact_on_measured_shapes_and_between_them_within_their_rates()
    {
        var pts = new List<GemmPoint>();
        foreach (var m in new[] { 1024.0, 4096, 16384 })
            foreach (var k in new[] { 64.0, 256, 1024 })
                pts.Add(new GemmPoint(m, k, 256, "fp32", 2 * m * k * 256 / (10e12 * Math.Min(1, m * k / 4e6)) + 5e-6));
        var grid = new GemmGrid(pts);
        foreach (var p in pts) Assert.Equal(p.Seconds, grid.Seconds(p.M, p.K, p.N, "fp32")!.Value, 15);
        var mid = grid.Seconds(2048, 128, 256, "fp32")!.Value;
        var rates = pts.Select(p => p.Flops / p.Seconds).ToList();
        var rate = 2.0 * 2048 * 128 * 256 / mid;
        Assert.InRange(rate, rates.Min(), rates.Max());
        Assert.Null(grid.Seconds(1024, 64, 256, "bf16"));
    }

    private static OperatorModels EagerModels() => new(
        MeasurementStacks.PytorchEager, "eager",
        new CostPair(LinearCost.Of((CostTerms.Calls, 10e-6), (CostTerms.LookupBytes, 1 / 1.2e12)), LinearCost.Of((CostTerms.Calls, 30e-6))),
        new Dictionary<string, CostPair>
        {
            ["sgd"] = new(LinearCost.Of((CostTerms.Calls, 40e-6), (CostTerms.Lookups, 0.6e-9), (CostTerms.LookupBytes, 1 / 0.5e12)), LinearCost.Of((CostTerms.Calls, 120e-6))),
        },
        new Dictionary<string, CostPair> { ["sgd"] = new(LinearCost.Of((CostTerms.Calls, 5e-6), (CostTerms.Parameters, 12 / 3e12)), LinearCost.Of((CostTerms.Calls, 20e-6))) },
        new CostPair(LinearCost.Of((CostTerms.Slices, 30e-6)), LinearCost.Of((CostTerms.Slices, 40e-6))),
        8e-6, 3e-6, 3e12, []);

    private const string OneTable = @"
name: one-table
source: test
batch_size: 8192
dense_features: 13
bottom_mlp: [64, 128]
interaction: dot
top_mlp: [64, 1]
optimizer: sgd
precision: {compute: fp32, all_to_all_forward: fp32, all_to_all_backward: fp32, all_reduce: fp32, index: int64}
tables:
  - {name: t0, rows: 1000000, dim: 128, pooling_factor: 32}
";

    [Fact]
    public void Eager_backward_prices_lookups_so_a_column_split_costs_more_than_its_bytes()
    {
        var c = Fixtures.Cluster(1, 4);
        var w = Fixtures.Workload(OneTable);
        var tw = Fixtures.Plan("name: tw\ntables:\n  t0: {scheme: table_wise, ranks: [0]}\n", w, c);
        var cw = Fixtures.Plan("name: cw\ntables:\n  t0: {scheme: column_wise, ranks: [0, 1, 2, 3]}\n", w, c);
        var p = CostParameters.Default with { Operators = EagerModels() };
        double Backward(Sim.Sharding.ShardingPlan plan) => IterationGraph.Build(c, w, plan, p).Tasks
            .Where(t => t.Phase == Phases.EmbeddingBackward).Sum(t => t.Seconds);
        // Column-wise: 4 shards, each with all lookups at a quarter of the width. Bytes are the same in all; the
        // per-lookup and per-call terms are paid four times.
        var lookups = 8192 * 32.0;
        var expectedExtra = 3 * (40e-6 + 0.6e-9 * lookups);
        Assert.Equal(expectedExtra, Backward(cw) - Backward(tw), 9);
    }

    [Fact]
    public void A_host_bound_phase_takes_the_hosts_time()
    {
        var c = Fixtures.Cluster(1, 1);
        var w = Fixtures.Workload(OneTable);
        var plan = Fixtures.Plan("name: tw\ntables:\n  t0: {scheme: table_wise, ranks: [0]}\n", w, c);
        var p = CostParameters.Default with { Operators = EagerModels() };
        var lookup = IterationGraph.Build(c, w, plan, p).Tasks.Single(t => t.Phase == Phases.EmbeddingLookup).Seconds;
        // Device: 10 us + 1 MiB-ish of rows at 1.2 TB/s ≈ 0.9 ms; host 30 us: device-bound.
        Assert.Equal(10e-6 + 8192 * 32 * 128 * 4 / 1.2e12, lookup, 12);
        var hostHeavy = EagerModels() with { EmbeddingForward = new CostPair(LinearCost.Of((CostTerms.Calls, 10e-6)), LinearCost.Of((CostTerms.Calls, 5e-3))) };
        var hostBound = IterationGraph.Build(c, w, plan, p with { Operators = hostHeavy }).Tasks.Single(t => t.Phase == Phases.EmbeddingLookup).Seconds;
        Assert.Equal(5e-3, hostBound, 12);
    }

    [Fact]
    public void Extrapolations_name_another_card_and_an_unmeasured_optimizer()
    {
        var c = Fixtures.Cluster(1, 4);
        var w = Fixtures.Workload(OneTable);
        var plan = Fixtures.Plan("name: tw\ntables:\n  t0: {scheme: table_wise, ranks: [0]}\n", w, c);
        var domain = new ProfileDomain("NVIDIA H200", "580", "13.0", "2.28.9", "2.11.0", [MeasurementStacks.PytorchEager], ["rowwise_adagrad"], ["fp32"], [],
            new ValueRange(8192, 2e6), new ValueRange(32, 256), new ValueRange(8192, 65536));
        var profile = new CalibrationProfile("NVIDIA H200", 1, "CUDA 13.0", "h200x1.yaml", [], CalibratedParametersOf(CostParameters.Default), [], 0, "test",
            [EagerModels()], domain);
        var lines = Extrapolations.Of(profile, c, w, plan, "eager");
        Assert.Contains(lines, l => l.Contains("another card"));
        Assert.Contains(lines, l => l.StartsWith("optimizer sgd was never measured"));
        Assert.Contains(lines, l => l.Contains("collectives"));
        Assert.DoesNotContain(lines, l => l.StartsWith("stack"));
        Assert.Contains(Extrapolations.Of(profile, c, w, plan, "fused"), l => l.StartsWith("stack 'fused' was never measured"));
        Assert.Equal("H100", Extrapolations.CardFamily("NVIDIA H100 80GB HBM3"));
        Assert.Equal("H200", Extrapolations.CardFamily("H200-SXM-141GB"));
    }

    private static CalibratedParameters CalibratedParametersOf(CostParameters p) => new(p.GemmEfficiency, p.GemmHalfSaturationFlops, p.EmbeddingEfficiency,
        p.EmbeddingBackwardEfficiency, p.EmbeddingBackwardShardSeconds, p.RowSplitBucketiseSeconds, p.KernelOverheadSeconds,
        p.IntraNodeCollectiveEfficiency, p.CollectiveOverheadSeconds, [], new Dictionary<string, PhaseCorrection>());
}

/// <summary>Calibration from an operator grid alone (issue 14), and `sim validate`'s gates on what it judges.</summary>
public class OperatorCalibrationTests
{
    private static MeasurementProvenance Provenance(string stack) =>
        new("cuda", "NVIDIA H200", 1, "580", "13.0", "13.0", "2.28.9", "2.11.0", "none", "none", "2026-12-04T00:00:00Z", "abc", "micro", stack);

    /// <summary>An eager stack whose backward costs 40 us + 0.6 ns per lookup + bytes at 0.5 TB/s, and whose row-wise
    /// Adagrad backward waits for the GPU (host time ≈ wall time).</summary>
    private static Measurement Grid()
    {
        var ops = new List<OperatorResult>();
        foreach (var batch in new[] { 8192.0, 65536 })
            foreach (var pool in new[] { 1.0, 8, 32 })
                foreach (var dim in new[] { 32.0, 128, 256 })
                {
                    var shape = new Dictionary<string, double> { ["rows"] = 1e6, ["dim"] = dim, ["batch"] = batch, ["pooling"] = pool, ["unique_rows"] = 1e6 * -double.ExpM1(-batch * pool / 1e6) };
                    var l = batch * pool;
                    var fwd = 10e-6 + l * dim * 4 / 1.2e12;
                    var bwd = 40e-6 + 0.6e-9 * l + l * dim * 4 / 0.5e12;
                    ops.Add(new OperatorResult(OperatorNames.EmbeddingForward, MeasurementStacks.PytorchEager, "fp32", null, shape, fwd, 20e-6, fwd));
                    ops.Add(new OperatorResult(OperatorNames.EmbeddingBackward, MeasurementStacks.PytorchEager, "fp32", "sgd", shape, bwd, 100e-6, bwd));
                    ops.Add(new OperatorResult(OperatorNames.EmbeddingBackward, MeasurementStacks.PytorchEager, "fp32", "rowwise_adagrad", shape, 2 * bwd, 1.95 * bwd, 2 * bwd));
                }
        ops.Add(new OperatorResult(OperatorNames.Elementwise, MeasurementStacks.PytorchEager, "fp32", null, new Dictionary<string, double> { ["elements"] = 1 }, 3e-6, 8e-6, 9e-6));
        ops.Add(new OperatorResult(OperatorNames.Elementwise, MeasurementStacks.PytorchEager, "fp32", null, new Dictionary<string, double> { ["elements"] = 1e8 }, 8e8 / 3e12, 8e-6, 8e8 / 3e12));
        return new Measurement(1, MeasurementKinds.Micro, Provenance(MeasurementStacks.PytorchEager), [], MeasurementStatus.Ok, Micro: new MicroResults(3, 10, Operators: ops));
    }

    [Fact]
    public void An_operator_grid_alone_gives_a_profile_with_the_forms_that_made_it()
    {
        var profile = Calibrator.Fit(Fixtures.Cluster(1, 1), "t.yaml", [new MeasurementFile("micro.json", Grid())]);
        var m = Assert.Single(profile.Operators!);
        Assert.Equal(MeasurementStacks.PytorchEager, m.MeasuredStack);
        Assert.Equal("eager", m.Form);
        var sgd = m.EmbeddingBackward["sgd"];
        Assert.False(sgd.Synchronises);
        Assert.Equal(40, sgd.Device.Coefficient(CostTerms.Calls) * 1e6, 6);
        Assert.Equal(0.6, sgd.Device.Coefficient(CostTerms.Lookups) * 1e9, 6);
        Assert.True(m.EmbeddingBackward["rowwise_adagrad"].Synchronises);
        Assert.Equal(8e-6, m.KernelIssueSeconds, 12);
        Assert.Equal(3e12, m.StreamBytesPerSecond, 0);
        // No end-to-end run was given: nothing is corrected per phase.
        Assert.Empty(profile.Parameters.PhaseCorrections);
        Assert.Equal(["rowwise_adagrad", "sgd"], profile.Domain!.Optimizers);
        Assert.Equal("NVIDIA H200", profile.Domain.Card);
    }

    [Fact]
    public void A_synchronising_backward_costs_its_wall_time_per_shard_and_a_host_bound_one_its_issue_time()
    {
        var profile = Calibrator.Fit(Fixtures.Cluster(1, 1), "t.yaml", [new MeasurementFile("micro.json", Grid())]);
        var m = profile.Operators![0];
        var c = Fixtures.Cluster(1, 1);
        var w = Fixtures.Workload();
        var plan = Fixtures.Greedy(c, w);
        var shards = EmbeddingWork.Compute(c, w, plan).Shards[0];
        double Backward(string opt)
        {
            var wl = w with { Optimizer = Sim.Workload.Optimizers.Words[opt] };
            return IterationGraph.Build(c, wl, plan, profile.ToCostParameters()).Tasks.Where(t => t.Phase == Phases.EmbeddingBackward).Sum(t => t.Seconds);
        }
        // Row-wise Adagrad waits for the GPU after every shard: the phase is the sum of the calls' wall times.
        var adagrad = m.EmbeddingBackward["rowwise_adagrad"];
        Assert.Equal(shards.Sum(s => adagrad.Device.Shard(s)), Backward("rowwise_adagrad"), 12);
        // SGD's calls do not wait: the host issues them one after another while the GPU runs; on these small shards
        // the host (100 us a call) is slower than the GPU, so the phase is the host's time plus the last call's kernels.
        var sgd = m.EmbeddingBackward["sgd"];
        var host = shards.Sum(s => sgd.Host.Shard(s));
        Assert.InRange(Backward("sgd"), host - 1e-12, host + shards.Max(s => sgd.Device.Shard(s)) + 1e-12);
        Assert.True(host > shards.Sum(s => sgd.Device.Shard(s)));
    }

    [Fact]
    public void Without_a_profile_an_eager_workload_uses_the_built_in_operator_models_and_a_fused_one_the_roofline()
    {
        var eager = CliRunner.Run("predict", Fixtures.Repo("topologies/h200x1.yaml"), Fixtures.Repo("workloads/validation/val-base.yaml"),
            Fixtures.Repo("validation/plans/val-base.1gpu.tw.yaml"), "--json");
        Assert.True(eager.ExitCode == 0, eager.Stderr);
        var e = Sim.Report.PredictionJson.Parse(eager.Stdout);
        Assert.StartsWith(MeasurementStacks.PytorchEager, e.Stack);
        Assert.Contains(e.Extrapolations!, l => l.StartsWith("no --profile: the built-in operator models"));
        // The built-in models are the committed profile's: the same seconds as with --profile of that file.
        var same = CliRunner.Run("predict", Fixtures.Repo("topologies/h200x1.yaml"), Fixtures.Repo("workloads/validation/val-base.yaml"),
            Fixtures.Repo("validation/plans/val-base.1gpu.tw.yaml"), "--json", "--profile", Fixtures.Repo("validation/profiles/h200x1.json"));
        Assert.Equal(Sim.Report.PredictionJson.Parse(same.Stdout).IterationSeconds, e.IterationSeconds, 12);
        var fused = CliRunner.Run("predict", Fixtures.Repo("topologies/h200x1.yaml"), Fixtures.Repo("workloads/validation/val-base.yaml"),
            Fixtures.Repo("validation/plans/val-base.1gpu.tw.yaml"), "--json", "--stack", "fused");
        var f = Sim.Report.PredictionJson.Parse(fused.Stdout);
        Assert.StartsWith("fused (roofline", f.Stack);
        Assert.NotEqual(e.IterationSeconds, f.IterationSeconds, 6);
    }

    [Fact]
    public void Collectives_taken_from_another_profile_are_used_and_named()
    {
        var h200 = CalibrationProfileJson.Read(Fixtures.Repo("validation/profiles/h200x1.json"));
        var h100 = CalibrationProfileJson.Read(Fixtures.Repo("validation/profiles/h100x2.json"));
        var both = h200.WithCollectivesFrom(h100, "h100x2.json");
        Assert.Equal(h100.Parameters.Collectives.Count, both.Parameters.Collectives.Count);
        Assert.Contains("h100x2.json", both.Domain!.CollectivesFrom);
        Assert.Contains(2, both.Domain.CollectiveGpuCounts);
        var c = Sim.Topology.TopologyLoader.Load(Fixtures.Repo("topologies/h200x2.yaml"));
        var w = Sim.Workload.WorkloadLoader.Load(Fixtures.Repo("workloads/validation/val-base.yaml"));
        var plan = Sim.Sharding.PlanLoader.Load(Fixtures.Repo("validation/plans/val-base.2gpu.rw.yaml"), w, c);
        Assert.Contains(Extrapolations.Of(both, c, w, plan, "eager"), l => l.StartsWith("collectives at 2 GPUs were measured on NVIDIA H100"));
        // The measured curve, not the link model, prices the all-to-all: same as the H100 profile's own.
        var a2a = new Sim.Collectives.AllToAllDemand(2);
        a2a.ToEachPeer[0] = a2a.ToEachPeer[1] = 1 << 26;
        Assert.Equal(CollectiveCost.AllToAllPerRank(c, h100.ToCostParameters(), a2a)[0], CollectiveCost.AllToAllPerRank(c, both.ToCostParameters(), a2a)[0], 12);
    }

    [Fact]
    public void Validate_refuses_another_cards_runs_without_cross_card_and_an_empty_set_of_runs()
    {
        var foreign = CliRunner.Run("validate", "--profile", Fixtures.Repo("validation/profiles/h200x1.json"), Fixtures.Repo("validation/runs/2026-11-26-h100x2-run1"));
        Assert.Equal(2, foreign.ExitCode);
        Assert.Contains("--cross-card", foreign.Stderr);
        var mixed = CliRunner.Run("validate", "--profile", Fixtures.Repo("validation/profiles/h200x1.json"), Fixtures.Repo("validation/runs/2026-11-26-h100x2-run1"),
            Fixtures.Repo("validation/runs/2026-12-04-h200x1"));
        Assert.True(mixed.ExitCode == 0, mixed.Stderr);
        Assert.Contains("left out", mixed.Stdout);
        using var dir = new Fixtures.TempDir();
        var empty = CliRunner.Run("validate", dir.Path);
        Assert.Equal(2, empty.ExitCode);
        Assert.Contains("no successful end-to-end run", empty.Stderr);
    }
}
