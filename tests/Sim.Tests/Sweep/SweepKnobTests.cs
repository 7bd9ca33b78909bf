using System.Reflection;
using Sim.Conditions;
using Sim.Hardware;
using Sim.Predictions;
using Sim.Sweep;

namespace Sim.Tests;

/// <summary>
/// The knob catalogue (<see cref="SweepKnobs"/>): every knob is keyed, stored and read back, none is half-added, and
/// keys and columns stay what the first result stores hold.
/// </summary>
public class SweepKnobTests
{
    private static readonly SweepPoint Golden = new(2, 4, 200.5, 300, 40_000_000_000, DType.Fp16, DType.Bf16, DType.Fp8, DType.Tf32, 1024,
        "balanced", true, PredictionMode.Event) { BackgroundLoad = 0.25, StragglerFactor = 1.5, JitterSigma = 0.05 };

    private const string GoldenText = """
        nodes=2
        gpus_per_node=4
        nic_gbps=200.5
        nvlink_gbytes_per_second=300
        hbm_bytes=40000000000
        all_to_all_forward_precision=fp16
        all_to_all_backward_precision=bf16
        all_reduce_precision=fp8
        compute_precision=tf32
        batch_size=1024
        planner=balanced
        overlap=true
        mode=event

        """;

    [Fact]
    public void Canonical_text_and_keys_are_those_the_first_stores_hold()
    {
        var ideal = Golden with { BackgroundLoad = 0, StragglerFactor = 1, JitterSigma = 0 };
        Assert.Equal(GoldenText, ideal.CanonicalText());
        Assert.Equal("9d556188879cf0cc42adf16571ac3269", SweepExpansion.Key("f", ideal));
        Assert.Equal(GoldenText + "background_load=0.25\nstraggler_factor=1.5\njitter_sigma=0.05\n", Golden.CanonicalText());
        Assert.Equal("1a8ba065048d3a5ef6a8cb1f7f065e08", SweepExpansion.Key("f", Golden));
    }

    [Fact]
    public void Results_columns_are_those_the_first_stores_hold()
    {
        (string, string)[] expected =
        [
            ("key", "VARCHAR"), ("topology", "VARCHAR"), ("workload", "VARCHAR"),
            ("nodes", "INTEGER"), ("gpus_per_node", "INTEGER"), ("gpus", "INTEGER"),
            ("nic_gbps", "DOUBLE"), ("nvlink_gbytes_per_second", "DOUBLE"), ("hbm_bytes", "BIGINT"),
            ("all_to_all_forward_precision", "VARCHAR"), ("all_to_all_backward_precision", "VARCHAR"),
            ("all_reduce_precision", "VARCHAR"), ("compute_precision", "VARCHAR"),
            ("batch_size", "BIGINT"), ("planner", "VARCHAR"), ("overlap", "BOOLEAN"), ("mode", "VARCHAR"),
            ("status", "VARCHAR"), ("error", "VARCHAR"), ("iteration_seconds", "DOUBLE"), ("samples_per_second", "DOUBLE"),
            .. Iterations.Phases.All.Select(p => (p + "_seconds", "DOUBLE")),
            ("exposed_communication_seconds", "DOUBLE"), ("hidden_communication_seconds", "DOUBLE"), ("bottleneck_phase", "VARCHAR"),
            ("memory_bytes_max", "BIGINT"), ("memory_capacity_bytes", "BIGINT"),
            ("background_load", "DOUBLE"), ("straggler_factor", "DOUBLE"), ("jitter_sigma", "DOUBLE"),
            ("iteration_seconds_p50", "DOUBLE"), ("iteration_seconds_p90", "DOUBLE"), ("iteration_seconds_p99", "DOUBLE"), ("pacing_rank", "INTEGER"),
        ];
        Assert.Equal(expected, ResultStore.Columns.Select(c => (c.Name, c.Type)));
    }

    /// <summary>
    /// Value number <paramref name="n"/> of a knob's type: n and n + 1 differ, an even n differs from
    /// <see cref="SweepPoint.Unset"/>'s value, and no number is a late knob's default. Bandwidths are dyadic so that
    /// they survive the round trip through bytes per second exactly.
    /// </summary>
    private static SweepPoint WithSample(SweepPoint p, SweepKnob knob, int n) => knob switch
    {
        SweepKnob<int> k => k.Set!(p, 3 + n),
        SweepKnob<long> k => k.Set!(p, 1000L + n),
        SweepKnob<double> k => k.Set!(p, 0.125 * n + 0.0625),
        SweepKnob<DType> k => k.Set!(p, Enum.GetValues<DType>()[1 + n % (Enum.GetValues<DType>().Length - 1)]),
        SweepKnob<string> k => k.Set!(p, "word" + n),
        SweepKnob<bool> k => k.Set!(p, n % 2 == 0),
        SweepKnob<PredictionMode> k => k.Set!(p, n % 2 == 0 ? PredictionMode.Event : PredictionMode.Analytical),
        _ => throw new InvalidOperationException($"no sample value for knob {knob.Name} ({knob.GetType()}): add one here"),
    };

    private static readonly List<SweepKnob> Stored = [.. SweepKnobs.All.Where(k => k.IsStored)];

    /// <summary>Every stored knob at a value of its own, unlike <see cref="SweepPoint.Unset"/>'s.</summary>
    private static SweepPoint Sample()
    {
        var p = SweepPoint.Unset with { Key = "0123456789abcdef0123456789abcdef" };
        for (var i = 0; i < Stored.Count; i++) p = WithSample(p, Stored[i], 2 * i);
        return p;
    }

    [Fact]
    public void Every_field_of_a_point_is_a_knob_of_the_catalogue()
    {
        // A property added to SweepPoint without a catalogue entry would stay at Unset's value here.
        var sample = Sample();
        var fields = typeof(SweepPoint).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(f => f.SetMethod is not null && f.Name != nameof(SweepPoint.Key)).ToList();
        Assert.Equal(Stored.Count, fields.Count);
        Assert.All(fields, f => Assert.NotEqual(f.GetValue(SweepPoint.Unset), f.GetValue(sample)));
    }

    [Fact]
    public void Every_stored_knob_is_in_the_key_once_and_changes_it()
    {
        var sample = Sample();
        var lines = sample.CanonicalText().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(Stored.Select(k => k.Name).Order(), lines.Select(l => l.Split('=')[0]).Order());
        for (var i = 0; i < Stored.Count; i++)
        {
            var other = WithSample(sample, Stored[i], 2 * i + 1);
            Assert.NotEqual(sample, other);
            Assert.NotEqual(sample.CanonicalText(), other.CanonicalText());
        }
    }

    [Fact]
    public void Late_knobs_at_their_default_are_not_in_the_key()
    {
        var late = SweepKnobs.All.Where(k => k.IsLate).ToList();
        Assert.NotEmpty(late);
        var atDefault = late.Aggregate(Sample(), (p, k) => k.AtDefault(p));
        var text = atDefault.CanonicalText();
        Assert.All(late, k => Assert.DoesNotContain(k.Name + "=", text));
        Assert.All(SweepKnobs.All.Where(k => k.IsStored && !k.IsLate), k => Assert.Contains(k.Name + "=", text));
    }

    [Fact]
    public void Every_stored_knob_has_a_column_and_round_trips_through_the_store()
    {
        var columns = ResultStore.Columns.Select(c => c.Name).ToList();
        Assert.Equal(columns.Count, columns.Distinct().Count());
        foreach (var k in SweepKnobs.All.Where(k => k.HasColumn))
            Assert.Contains((k.Name, k.SqlType), ResultStore.Columns.Select(c => (c.Name, c.Type)));
        Assert.All(Stored, k => Assert.True(k.HasColumn, k.Name));

        var sample = Sample();
        using var dir = new Fixtures.TempDir();
        var db = Path.Combine(dir.Path, "knobs.duckdb");
        var row = new SweepRow(sample, "topo", "work", RowStatus.Infeasible, "why", null, null, null, null, null, null, null, 1);
        using (var store = ResultStore.Open(db)) store.Append([row]);
        using (var store = ResultStore.Open(db, readOnly: true))
        {
            var back = Assert.Single(store.ReadRows());
            Assert.Equal(sample, back.Point);
            Assert.Equal(sample.CanonicalText(), back.Point.CanonicalText());
        }
    }

    [Fact]
    public void Every_entry_is_an_axis_a_column_or_a_dimension_and_every_axis_sets_the_point()
    {
        var dimensions = SweepAnalysis.AllDimensions.Select(d => d.Name).ToHashSet();
        var axes = SweepAxis.All.Select(a => a.Name).ToHashSet();
        Assert.Equal(SweepKnobs.All.Count, SweepKnobs.All.Select(k => k.Name).Distinct().Count());
        Assert.All(SweepKnobs.All, k => Assert.True(k.HasColumn || axes.Contains(k.Name) || dimensions.Contains(k.Name), $"{k.Name} takes part in nothing"));
        // Some accepted value of every axis changes the point (a word axis's first word may be the point's: try two).
        foreach (var a in SweepAxis.All)
        {
            object[] values = a.Kind switch
            {
                AxisValueKind.Integer => [(long)Math.Max(a.Min, 2)],
                AxisValueKind.Number => [Math.Max(a.Min, 0.5)],
                AxisValueKind.Switch => [true],
                _ => [.. a.Words.Take(2)],
            };
            var changed = values.Select(v => a.Apply(SweepPoint.Unset with { Nodes = 1, GpusPerNode = 1 }, v))
                .Any(p => p != SweepPoint.Unset with { Nodes = 1, GpusPerNode = 1 });
            Assert.True(changed, $"axis {a.Name} changes nothing");
        }
        foreach (var (x, y) in SweepAxis.Conflicts)
        {
            Assert.Contains(x, axes);
            Assert.Contains(y, axes);
        }
    }

    [Fact]
    public void Knobs_read_from_the_inputs_are_written_back_into_them()
    {
        using var d = new SweepTests.SweepDir();
        var inputs = SweepInputs.Load(SweepLoader.Load(d.Sweep));
        var evaluator = new SweepEvaluator(inputs);
        var basePoint = inputs.BasePoint("greedy", false, PredictionMode.Analytical);
        var fromInputs = Stored.Where(k => k.IsFromInputs).ToList();
        Assert.NotEmpty(fromInputs);
        foreach (var k in fromInputs)
        {
            // Bandwidths are dyadic fractions, which survive the trip through bytes per second exactly.
            var p = WithSample(basePoint, k, 2);
            Assert.NotEqual(Line(basePoint, k), Line(p, k));
            var back = SweepKnobs.FromInputs(SweepPoint.Unset, evaluator.ClusterFor(p), evaluator.WorkloadFor(p));
            Assert.Equal(Line(p, k), Line(back, k));
        }
    }

    [Fact]
    public void Cached_variants_follow_every_knob_they_are_built_from()
    {
        // The evaluator keeps one cluster and one workload per combination of the knobs ClusterFor and WorkloadFor read:
        // a knob its cache key missed would hand the base point's variant to a point that differs in it.
        using var d = new SweepTests.SweepDir();
        var inputs = SweepInputs.Load(SweepLoader.Load(d.Sweep));
        var basePoint = inputs.BasePoint("greedy", false, PredictionMode.Analytical);
        foreach (var k in Stored.Where(k => k.IsFromInputs))
        {
            var evaluator = new SweepEvaluator(inputs);
            var p = WithSample(basePoint, k, 2);
            var first = evaluator.ScenarioFor(basePoint, out _);
            Assert.Equal(Line(basePoint, k), Line(SweepKnobs.FromInputs(SweepPoint.Unset, first.Cluster, first.Workload), k));
            Scenario second;
            try { second = evaluator.ScenarioFor(p, out _); }
            catch (Config.SimInputException) { second = new Scenario(evaluator.ClusterForCached(p), evaluator.WorkloadForCached(p), first.Plan); }
            Assert.Equal(Line(p, k), Line(SweepKnobs.FromInputs(SweepPoint.Unset, second.Cluster, second.Workload), k));
        }
    }

    private static string Line(SweepPoint p, SweepKnob k)
    {
        var sb = new System.Text.StringBuilder();
        k.AppendKey(sb, p);
        return sb.ToString();
    }

    [Fact]
    public void Conditions_knobs_have_a_default_and_apply_only_off_it()
    {
        var conditions = SweepKnobs.All.Where(k => k.ChangesConditions).ToList();
        Assert.NotEmpty(conditions);
        Assert.All(conditions, k => Assert.True(k.IsLate, $"{k.Name} changes the conditions and needs a default (the ideal cluster)"));
        var ideal = SweepKnobs.WithoutConditions(Sample());
        Assert.False(ideal.HasConditions);
        Assert.Equal(OperatingConditions.None, SweepKnobs.Apply(OperatingConditions.None, ideal));
        foreach (var k in conditions)
        {
            var p = WithSample(ideal, k, 0);
            Assert.True(p.HasConditions, k.Name);
            Assert.NotEqual(OperatingConditions.None, SweepKnobs.Apply(OperatingConditions.None, p));
        }
    }
}
