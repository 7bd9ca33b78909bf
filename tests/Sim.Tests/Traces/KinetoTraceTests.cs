using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Sim.Calibration;
using Sim.Config;
using Sim.Cost.Operators;
using Sim.Traces;
using Sim.Iterations;
using Sim.Profiles;

namespace Sim.Tests;

/// <summary>Reading PyTorch profiler traces, mapping their kernels to Sim's operators, and fitting from them.</summary>
public sealed class KinetoTraceTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sim-kineto-").FullName;
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly KinetoFixture.Table[] PlanA =
    [
        new(100_000, 32, 4096, 1), new(1_000_000, 64, 4096, 8), new(200_000, 128, 8192, 4),
        new(50_000, 16, 2048, 32), new(400_000, 256, 1024, 2), new(800_000, 64, 16384, 1),
    ];

    private static readonly KinetoFixture.Table[] PlanB = [new(300_000, 96, 6144, 3), new(2_000_000, 48, 2048, 20), new(60_000, 192, 12288, 2)];

    private static KinetoTrace Parse(string json, string name = "t.json") => KinetoReader.Parse(new MemoryStream(Encoding.UTF8.GetBytes(json)), name);

    [Fact]
    public void Reads_the_gpu_rank_versions_operators_and_kernels()
    {
        var f = new KinetoFixture { Rank = 1, World = 2 }.Iteration(PlanB, (512, 256, 128));
        var t = Parse(f.Json());
        Assert.Equal(1, t.Rank);
        Assert.Equal(2, t.WorldSize);
        Assert.Equal("NVIDIA H200", t.Gpu!.Name);
        Assert.Equal(132, t.Gpu.Multiprocessors);
        Assert.Equal("12.8", t.CudaVersion);
        Assert.Equal("2.27.3", t.NcclVersion);
        // 2 forward kernels and 1 backward and 1 step per table, 1 + 1 GEMMs, 1 NCCL kernel.
        Assert.Equal(PlanB.Length * 4 + 3, t.Kernels.Count);
        var bag = t.Ops.First(o => o.Name == "aten::embedding_bag");
        Assert.Equal("[[300000,96],[18432],[6144],[],[],[],[],[],[]]", bag.InputDims);
        // The kernel links to its launcher, nested in the lookup phase's range.
        var k = t.Kernels.First();
        var chain = t.Chain(t.Launcher(k)).Select(i => t.Ops[i].Name).ToList();
        Assert.Equal(["aten::embedding_bag", Phases.EmbeddingLookup], chain);
    }

    [Fact]
    public void Maps_every_kernel_of_an_eager_step_and_reports_the_unmapped_time()
    {
        const double unmapped = 123e-6;
        var t = Parse(new KinetoFixture().Iteration(PlanB, (512, 256, 128), unmapped).Json());
        var ops = TraceOperators.Of(t, MeasurementStacks.PytorchEager, "sgd");
        var unmappedEntry = Assert.Single(ops.Unmapped);
        Assert.Equal("at::native::vectorized_elementwise_kernel", unmappedEntry.What);
        Assert.Equal(unmapped, ops.UnmappedSeconds, 9);
        var fwd = ops.Mapped.Single(m => m.What == "embedding forward");
        Assert.Equal(PlanB.Sum(x => KinetoFixture.Forward(x.Lookups, x.Dim)), fwd.Seconds, 9);
        Assert.Equal(PlanB.Sum(x => KinetoFixture.Step(x.Lookups, x.Dim)), ops.Mapped.Single(m => m.What == "sparse optimizer").Seconds, 9);
        Assert.Equal(100e-6, ops.Mapped.Single(m => m.What == "collective all_reduce").Seconds, 9);
        // Conservation: every kernel's time is in exactly one line.
        Assert.Equal(t.Kernels.Sum(k => k.DurationMicros) * 1e-6, ops.MappedSeconds + ops.UnmappedSeconds, 9);

        // Per call, with shapes: the eager backward carries its share of the sparse step (by lookup bytes: exact here).
        var bwd = ops.Operators.Where(o => o.Op == OperatorNames.EmbeddingBackward).ToList();
        Assert.Equal(PlanB.Length, bwd.Count);
        foreach (var x in PlanB)
        {
            var b = bwd.Single(o => o.Shape["rows"] == x.Rows);
            Assert.Equal(x.Batch, b.Shape["batch"]);
            Assert.Equal(x.Pooling, b.Shape["pooling"]);
            Assert.Equal(KinetoFixture.Backward(x.Lookups) + KinetoFixture.Step(x.Lookups, x.Dim), b.DeviceSeconds, 9);
        }
        var linear = ops.Operators.Single(o => o.Op == OperatorNames.LinearBackward);
        Assert.Equal([512.0, 256, 128], new[] { linear.Shape["batch"], linear.Shape["in"], linear.Shape["out"] });
        var coll = Assert.Single(ops.Collectives);
        Assert.Equal((Nccl.CollectiveOps.AllReduceName, 2, 4L << 20), (coll.Op, coll.WorldSize, coll.Bytes));
    }

    [Fact]
    public void A_fused_stack_keeps_the_backward_as_measured()
    {
        var t = Parse(new KinetoFixture().Iteration(PlanB, (512, 256, 128)).Json());
        var ops = TraceOperators.Of(t, "my-fused", "sgd");
        foreach (var x in PlanB)
            Assert.Equal(KinetoFixture.Backward(x.Lookups), ops.Operators.Single(o => o.Op == OperatorNames.EmbeddingBackward && o.Shape["rows"] == x.Rows).DeviceSeconds, 9);
    }

    [Fact]
    public void A_profile_fitted_on_one_trace_prices_another_plans_operators()
    {
        var a = Parse(new KinetoFixture().Iteration(PlanA, (512, 256, 128)).Iteration(PlanA, (2048, 512, 256)).Json(), "a.json");
        var micro = TraceMeasurements.Micro(a, TraceOperators.Of(a, MeasurementStacks.PytorchEager, "sgd"), MeasurementStacks.PytorchEager, "test");
        var profile = Calibrator.Fit(Fixtures.Cluster(1, 1), "h200x1", [micro]);
        var m = profile.OperatorsFor("eager")!;
        Assert.Equal(MeasurementStacks.PytorchEager, m.MeasuredStack);
        Assert.Equal("NVIDIA H200", profile.Card);

        // The held-back plan: other rows, widths, batches and poolings, predicted from the fitted forms.
        foreach (var x in PlanB)
        {
            var features = new Dictionary<string, double>
            {
                [CostTerms.Calls] = 1, [CostTerms.Lookups] = x.Lookups, [CostTerms.LookupBytes] = x.Lookups * x.Dim * 4.0,
                [CostTerms.PooledBytes] = x.Batch * x.Dim * 4.0, [CostTerms.UniqueRowBytes] = x.Rows * -double.ExpM1(-(double)x.Lookups / x.Rows) * x.Dim * 4,
            };
            Assert.Equal(KinetoFixture.Forward(x.Lookups, x.Dim), m.EmbeddingForward.Device.Seconds(features), KinetoFixture.Forward(x.Lookups, x.Dim) * 1e-6);
            var bwd = KinetoFixture.Backward(x.Lookups) + KinetoFixture.Step(x.Lookups, x.Dim);
            Assert.Equal(bwd, m.EmbeddingBackward["sgd"].Device.Seconds(features), bwd * 1e-6);
        }
    }

    [Fact]
    public void Phases_per_rank_come_from_the_phase_ranges()
    {
        var r0 = new KinetoFixture { Rank = 0, World = 2 }.Iteration(PlanA[..3], (512, 256, 128)).Iteration(PlanA[..3], (512, 256, 128));
        var r1 = new KinetoFixture { Rank = 1, World = 2 }.Iteration(PlanA[3..], (512, 256, 128)).Iteration(PlanA[3..], (512, 256, 128));
        var traces = TraceMeasurements.RankOrder([Parse(r1.Json(), "r1.json"), Parse(r0.Json(), "r0.json")]);
        Assert.Equal([0, 1], traces.Select(t => t.Rank!.Value));
        var e2e = TracePhases.Measure(traces, 1024);
        Assert.Equal(2, e2e.MeasuredIterations);
        var lookup = Phases.All.ToList().IndexOf(Phases.EmbeddingLookup);
        // Both iterations alike: each rank's median is its per-iteration time; the phase is the slower rank's.
        Assert.Equal(r0.PhaseSeconds[Phases.EmbeddingLookup] / 2, e2e.RankPhaseMedians[0][lookup], 9);
        Assert.Equal(r1.PhaseSeconds[Phases.EmbeddingLookup] / 2, e2e.RankPhaseMedians[1][lookup], 9);
        Assert.Equal(Math.Max(r0.PhaseSeconds[Phases.EmbeddingLookup], r1.PhaseSeconds[Phases.EmbeddingLookup]) / 2, e2e.Phases[lookup].Median, 9);
        // Device-busy: the lookup's kernels, back to back after the first.
        Assert.True(e2e.PhaseDeviceBusy![lookup] <= e2e.Phases[lookup].Median + 1e-12);
        Assert.True(e2e.PhaseDeviceBusy[lookup] >= PlanA[3..].Sum(x => KinetoFixture.Forward(x.Lookups, x.Dim)));
    }

    [Fact]
    public void Gzipped_and_cut_into_tiny_reads_it_parses_the_same()
    {
        var json = new KinetoFixture().Iteration(PlanB, (512, 256, 128)).Json();
        var plain = Parse(json);
        var gz = Path.Combine(_dir, "t.json.gz");
        using (var fs = File.Create(gz))
        using (var z = new GZipStream(fs, CompressionLevel.Fastest))
            z.Write(Encoding.UTF8.GetBytes(json));
        var zipped = KinetoReader.Read(gz);
        var trickled = KinetoReader.Parse(new TrickleStream(Encoding.UTF8.GetBytes(json), 7), "t.json");
        foreach (var other in new[] { zipped, trickled })
        {
            Assert.Equal(plain.Ops, other.Ops);
            Assert.Equal(plain.Kernels, other.Kernels);
        }
    }

    [Fact]
    public void A_value_larger_than_the_read_window_is_read_whole()
    {
        var name = new string('k', 3 << 20);
        var json = $"{{\"traceEvents\":[{{\"ph\":\"X\",\"cat\":\"kernel\",\"name\":\"{name}\",\"ts\":1,\"dur\":2,\"args\":{{}}}}],\"deviceProperties\":[{{\"name\":\"G\"}}]}}";
        var t = Parse(json);
        Assert.Equal(name, Assert.Single(t.Kernels).Name);
        Assert.Equal("G", t.Gpu!.Name);
    }

    [Theory]
    [InlineData("{\"traceEvents\":[{\"ph\":\"X\",\"name\":\"a\"", "the file ends")]
    [InlineData("{\"traceEvents\":[{\"ph\":\"X\",\"name\":\"a\",\"ts\":1}, {\"ph\":\"X\", nope}]}", "malformed JSON")]
    [InlineData("{\"schemaVersion\":1,\"a\":[1,2,3]}", "traceEvents: missing")]
    [InlineData("[{\"name\":\"aten::add\",\"ph\":\"X\",\"ts\":1}]", "does not start with '{'")]
    [InlineData("{\"traceEvents\":[]}", "traceEvents: is empty")]
    [InlineData("", "the file is empty")]
    [InlineData("  \n", "the file is empty")]
    [InlineData("{\"traceEvents\":[{\"ph\":\"X\",\"cat\":\"kernel\",\"name\":\"k\",\"ts\":1,\"dur\":-3}]}", "negative dur")]
    [InlineData("{\"traceEvents\":[{\"ph\":\"X\",\"cat\":\"kernel\",\"name\":\"k\",\"ts\":\"soon\"}]}", "ts is not a number")]
    public void Bad_traces_get_one_line_naming_the_file_and_the_problem(string json, string problem)
    {
        var e = Assert.Throws<SimInputException>(() => Parse(json, "bad.json"));
        Assert.StartsWith("bad.json", e.Message);
        Assert.Contains(problem, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void A_malformed_event_is_located_by_its_byte_offset()
    {
        const string head = "{\"traceEvents\":[{\"ph\":\"X\",\"name\":\"a\",\"ts\":1},\n{\"ph\":\"X\",";
        var e = Assert.Throws<SimInputException>(() => Parse(head + " nope}]}", "bad.json"));
        Assert.Contains($"byte {head.Length + 1}", e.Message);
    }

    [Fact]
    public void Calibrate_from_a_trace_writes_a_profile_and_reports_the_unmapped_time()
    {
        var trace = new KinetoFixture().Iteration(PlanA, (512, 256, 128), 50e-6).Write(_dir, "a.json");
        var outPath = Path.Combine(_dir, "p.json");
        var r = CliRunner.Run("calibrate", "--topology", Fixtures.Repo("topologies/h200x1.yaml"), "--trace", trace, "--out", outPath);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Contains("unmapped: at::native::vectorized_elementwise_kernel", r.Stdout);
        var p = CalibrationProfileJson.Read(outPath);
        Assert.Equal("NVIDIA H200", p.Card);
        Assert.NotNull(p.OperatorsFor("eager"));
        // What the trace could not fit is named (no bmm, no elementwise grid), and the rest is kept.
        Assert.Contains("note: not fitted from the traces: interaction forward", r.Stdout);
        Assert.DoesNotContain("not fitted from the traces: embedding backward", r.Stdout);

        var j = CliRunner.Run("calibrate", "--topology", Fixtures.Repo("topologies/h200x1.yaml"), "--trace", trace, "--out", outPath, "--json");
        Assert.True(j.ExitCode == 0, j.Stderr);
        var doc = JsonDocument.Parse(j.Stdout).RootElement;
        var t = doc.GetProperty("traces")[0];
        Assert.Equal(50e-6, t.GetProperty("unmapped_seconds").GetDouble(), 9);
        Assert.Equal(PlanA.Length * 2 + 4, t.GetProperty("operator_calls").GetInt32()); // forward + backward per table; linear fwd, its GEMM, linear bwd, the all-reduce call
        Assert.Contains(doc.GetProperty("not_fitted_from_traces").EnumerateArray(), n => n.GetString() == "interaction forward");
    }

    [Fact]
    public void Calibrate_refuses_traces_without_shapes_in_one_line()
    {
        var json = new KinetoFixture().Iteration(PlanB, (512, 256, 128)).Json().Replace("\"Input Dims\"", "\"Dims dropped\"");
        var trace = Path.Combine(_dir, "noshapes.json");
        File.WriteAllText(trace, json);
        var r = CliRunner.Run("calibrate", "--topology", Fixtures.Repo("topologies/h200x1.yaml"), "--trace", trace, "--out", Path.Combine(_dir, "p.json"));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("record_shapes", r.Stderr);
        Assert.Contains("without recorded input shapes", r.Stdout);
    }

    [Fact]
    public void Validate_a_traced_run_per_phase_and_per_rank()
    {
        var r0 = new KinetoFixture { Rank = 0, World = 2 }.Iteration(PlanA[..3], (512, 256, 128)).Write(_dir, "run.rank0.json");
        var r1 = new KinetoFixture { Rank = 1, World = 2 }.Iteration(PlanA[3..], (512, 256, 128)).Write(_dir, "run.rank1.json");
        string[] scenario = ["--topology", Fixtures.Repo("topologies/h200x2.yaml"), "--workload", Fixtures.Repo("workloads/validation/val-base.yaml"),
            "--plan", Fixtures.Repo("validation/plans/val-base.2gpu.tw.yaml")];
        var r = CliRunner.Run(["validate", "--trace", r0, r1, .. scenario]);
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Contains("per rank (1 traced iteration(s))", r.Stdout);

        var j = CliRunner.Run(["validate", "--json", "--trace", r1, r0, .. scenario]);
        Assert.True(j.ExitCode == 0, j.Stdout + j.Stderr);
        var run = JsonDocument.Parse(j.Stdout).RootElement.GetProperty("reports")[0].GetProperty("runs")[0];
        Assert.Equal(2, run.GetProperty("gpus").GetInt32());
        Assert.True(run.GetProperty("analytical_seconds").GetDouble() > 0);

        var missing = CliRunner.Run("validate", "--trace", r0, r1, "--topology", Fixtures.Repo("topologies/h200x2.yaml"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("--workload", missing.Stderr);
        var twice = CliRunner.Run(["validate", "--trace", r0, r0, .. scenario]);
        Assert.Equal(2, twice.ExitCode);
        Assert.Contains("expected 0..1", twice.Stderr);
    }

    /// <summary>A stream that hands out at most a few bytes per read, to cut values at every possible place.</summary>
    private sealed class TrickleStream(byte[] data, int step) : Stream
    {
        private int _at;
        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, step), data.Length - _at);
            Array.Copy(data, _at, buffer, offset, n);
            _at += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => data.Length;
        public override long Position { get => _at; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
