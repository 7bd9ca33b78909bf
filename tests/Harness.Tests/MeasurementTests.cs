using Sim.Config;
using Sim.Iterations;
using Sim.Measurements;

namespace Sim.Harness.Tests;

/// <summary>The Measurement schema: what is written reads back identically, and what breaks the schema is refused.</summary>
public class MeasurementTests
{
    internal static Measurement Sample(string state = MeasurementStatus.OkState)
    {
        var phases = Phases.All.Select((p, i) => new PhaseStats(p, 1e-3 * (i + 1), 0.9e-3 * (i + 1), 1.2e-3 * (i + 1))).ToList();
        var perIt = new List<IterationSample>
        {
            new(0.0101, 0.0099, 0.0002, Phases.All.Select((_, i) => 1e-3 * (i + 1)).ToList(), 0.693),
            new(0.0103, 0.0100, 0.0003, Phases.All.Select((_, i) => 1.1e-3 * (i + 1)).ToList(), 0.690),
        };
        return new Measurement(
            MeasurementJson.SchemaVersion,
            MeasurementKinds.Run,
            new MeasurementProvenance("cuda", "NVIDIA H100 80GB HBM3", 4, "580.95.05", "13.0", "13.0", "2.28.9", "2.11.0+cu130",
                "0.107.0", "10.0.0", "2026-11-30T12:00:00Z", "0123456789abcdef0123456789abcdef01234567", "harness run a.yaml b.yaml c.yaml --device cuda"),
            [new MeasurementInput("topology", "topologies/h100x4.yaml", new string('a', 64), 12, "name: x\n"),
             new MeasurementInput("workload", "w.yaml", new string('b', 64), 100_000, null)],
            state == MeasurementStatus.OkState ? MeasurementStatus.Ok : MeasurementStatus.Failed(3, "all_to_all_forward: ncclGroupEnd", "NCCL error 3: internal error"),
            new RunSettings("h100x4", "val-base", "val-base-rw", 4, 32768, 8192, 5, 2, 1, 0.01, "rowwise_adagrad", "fp32"),
            new EndToEndResult(2, phases, new TimeStats(0.0102, 0.0101, 0.0103), new TimeStats(0.00995, 0.0099, 0.01),
                new TimeStats(0.00025, 0.0002, 0.0003), 0.0245, 3.2e6,
                [Phases.All.Select(_ => 1e-3).ToList(), Phases.All.Select(_ => 2e-3).ToList()], perIt),
            new MicroResults(3, 7,
                [new GemmResult("square 1024", 1024, 1024, 1024, "bf16", 3e-6, GemmResult.Flops(1024, 1024, 1024) / 3e-6)],
                [new EmbeddingResult(1_000_000, 128, 8, 65536, "fp32", "rowwise_adagrad", 1e-4, 3e-4)],
                [CollectiveResult.Create(CollectiveBandwidth.AllReduce, 4, 1L << 28, 1e-3)]));
    }

    [Theory]
    [InlineData(MeasurementStatus.OkState)]
    [InlineData(MeasurementStatus.FailedState)]
    public void RoundTripsThroughItsJsonSchema(string state)
    {
        var m = Sample(state);
        var json = MeasurementJson.Write(m);
        var back = MeasurementJson.Read(json, "m.json");
        Assert.Equal(json, MeasurementJson.Write(back));
        Assert.Equal(m.Provenance, back.Provenance);
        Assert.Equal(m.Status, back.Status);
        Assert.Equal(m.Run, back.Run);
        Assert.Equal(Phases.All, back.EndToEnd!.Phases.Select(p => p.Name));
        Assert.Equal(m.EndToEnd!.PerIteration[1].Phases, back.EndToEnd.PerIteration[1].Phases);
        Assert.Equal(m.Micro!.Collectives![0], back.Micro!.Collectives![0]);
        // snake_case keys, in declaration order.
        Assert.Contains("\"schema_version\": 1", json);
        Assert.True(json.IndexOf("\"provenance\"", StringComparison.Ordinal) < json.IndexOf("\"inputs\"", StringComparison.Ordinal));
        Assert.Contains("\"busbw_gb_per_second\"", json);
        Assert.Contains("\"host_overhead_fraction\"", json);
    }

    [Fact]
    public void AtomicFileWriteAndArraysReadBack()
    {
        var dir = Path.Combine(Path.GetTempPath(), "harness-m-" + Guid.NewGuid().ToString("N"));
        try
        {
            var path = Path.Combine(dir, "sub", "m.json");
            MeasurementJson.WriteFile(path, Sample());
            MeasurementJson.WriteFile(path, Sample(MeasurementStatus.FailedState)); // overwrite
            Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));          // no temporary left behind
            var one = MeasurementJson.ReadFile(path);
            Assert.Equal(MeasurementStatus.FailedState, Assert.Single(one).Status.State);

            var array = "[" + MeasurementJson.Write(Sample(), false) + "," + MeasurementJson.Write(Sample(MeasurementStatus.FailedState), false) + "]";
            Assert.Equal(2, MeasurementJson.ReadAll(array).Count);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void BusBandwidthFollowsNcclTests()
    {
        var ar = CollectiveResult.Create(CollectiveBandwidth.AllReduce, 4, 2_000_000_000, 1.0);
        Assert.Equal(2.0, ar.AlgbwGbPerSecond, 12);
        Assert.Equal(2.0 * 2 * 3 / 4, ar.BusbwGbPerSecond, 12);
        foreach (var op in new[] { CollectiveBandwidth.AllGather, CollectiveBandwidth.ReduceScatter, CollectiveBandwidth.AllToAll })
            Assert.Equal(2.0 * 3 / 4, CollectiveResult.Create(op, 4, 2_000_000_000, 1.0).BusbwGbPerSecond, 12);
        Assert.Equal(0.0, CollectiveResult.Create(CollectiveBandwidth.AllReduce, 1, 1000, 1e-6).BusbwGbPerSecond);
    }

    [Fact]
    public void RefusesWrongPhaseNamesAndUnknownValues()
    {
        var m = Sample();
        var bad = m with { EndToEnd = m.EndToEnd! with { Phases = m.EndToEnd.Phases.Reverse().ToList() } };
        var e = Assert.Throws<SimInputException>(() => MeasurementJson.Read(MeasurementJson.Write(bad), "bad.json"));
        Assert.Equal("end_to_end.phases", e.Field);

        var json = MeasurementJson.Write(m).Replace("\"state\": \"ok\"", "\"state\": \"fine\"");
        Assert.Equal("status.state", Assert.Throws<SimInputException>(() => MeasurementJson.Read(json, "x.json")).Field);

        var noProvenance = MeasurementJson.Write(m).Replace("\"provenance\"", "\"provenanse\"");
        Assert.Throws<SimInputException>(() => MeasurementJson.Read(noProvenance, "y.json"));
    }
}
