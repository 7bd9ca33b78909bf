using System.Globalization;
using Sim.Hardware;
using Sim.Workload;
using Sim.Predictions;

namespace Sim.Sweep;

/// <summary>A knob as the report sees it: a name, each row's value as text, and a number where it has one (for sorting and axes).</summary>
internal sealed record Dimension(string Name, string Label, Func<SweepRow, string> Text, Func<SweepRow, double>? Number = null)
{
    public IComparer<string> Comparer(IReadOnlyList<SweepRow> rows)
    {
        if (Number is null) return StringComparer.Ordinal;
        var byText = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var r in rows) byText.TryAdd(Text(r), Number(r));
        return Comparer<string>.Create((a, b) =>
            byText.TryGetValue(a, out var x) && byText.TryGetValue(b, out var y) ? x.CompareTo(y) : string.CompareOrdinal(a, b));
    }
}

/// <summary>One curve of a scaling plot: the knobs it holds fixed and its points by GPU count.</summary>
internal sealed record ScalingSeries(string Label, IReadOnlyList<ScalingPoint> Points);

/// <summary>Throughput at one GPU count, and its efficiency relative to the series' smallest GPU count (1 = linear scaling).</summary>
internal sealed record ScalingPoint(int Gpus, double SamplesPerSecond, double Efficiency, SweepRow Row);

/// <summary>Throughput against background load with the other knobs fixed; slowdown relative to the series' lightest load.</summary>
internal sealed record BackgroundSeries(string Label, IReadOnlyList<(double Load, double SamplesPerSecond, double Slowdown)> Points);

/// <summary>A table of one value over two knobs (NaN where no feasible row exists).</summary>
internal sealed record HeatmapData(Dimension X, Dimension Y, IReadOnlyList<string> XValues, IReadOnlyList<string> YValues, double[,] Values, string Fixed);

/// <summary>
/// What a report shows, computed from a results table: which knobs vary, the scaling curves (throughput and
/// efficiency against GPUs, one curve per combination of the other varied knobs), a reference slice for the
/// breakdown chart and the two-knob heatmap. Pure data; the CLI draws it.
/// </summary>
internal sealed class SweepAnalysis
{
    public const int MaxSeries = 12;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public IReadOnlyList<SweepRow> Rows { get; }
    public IReadOnlyList<SweepRow> Ok { get; }
    /// <summary>Knobs with more than one value among the rows, in catalogue order.</summary>
    public IReadOnlyList<Dimension> Varied { get; }
    /// <summary>Value each varied knob takes in the reference slice (the first value the sweep file lists).</summary>
    public IReadOnlyDictionary<string, string> Reference { get; }

    /// <summary>The row's inputs, then the catalogue's knobs that have a label (<see cref="SweepKnobs"/>), in its order.</summary>
    public static IReadOnlyList<Dimension> AllDimensions { get; } =
    [
        new("topology", "topology", r => r.Topology),
        new("workload", "workload", r => r.Workload),
        .. SweepKnobs.All.Select(k => k.CreateDimension()).OfType<Dimension>(),
    ];

    public static Dimension Dim(string name) => AllDimensions.First(d => d.Name == name);

    /// <param name="axes">the sweeps' axes with values in file order (from the store); decides the reference slice.</param>
    public SweepAnalysis(IReadOnlyList<SweepRow> rows, IReadOnlyDictionary<string, IReadOnlyList<string>>? axes = null)
    {
        Rows = rows;
        Ok = rows.Where(r => r.IsOk).ToList();
        Varied = AllDimensions.Where(d => rows.Select(d.Text).Distinct().Skip(1).Any()).ToList();
        var reference = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var d in Varied)
        {
            var values = rows.Select(d.Text).Distinct().ToList();
            var preferred = PreferredFromAxes(d, axes, rows);
            reference[d.Name] = preferred is not null && values.Contains(preferred)
                ? preferred
                : values.Order(d.Comparer(rows)).First();
        }
        Reference = reference;
    }

    /// <summary>Maps a knob to the sweep-file axis that sets it and takes that axis's first listed value, written as the knob writes it.</summary>
    private static string? PreferredFromAxes(Dimension d, IReadOnlyDictionary<string, IReadOnlyList<string>>? axes, IReadOnlyList<SweepRow> rows)
    {
        if (axes is null) return null;
        string[] sources = d.Name switch
        {
            "all_to_all_precision" => ["all_to_all_precision", "comm_precision"],
            "all_reduce_precision" => ["all_reduce_precision", "comm_precision"],
            _ => [d.Name],
        };
        foreach (var s in sources)
        {
            if (!axes.TryGetValue(s, out var vals) || vals.Count == 0) continue;
            var first = vals[0];
            // Numbers are stored in round-trip form; match rows by value.
            if (d.Number is not null && double.TryParse(first, NumberStyles.Float, Inv, out var x))
                return rows.FirstOrDefault(r => d.Number(r) == x) is { } hit ? d.Text(hit) : null;
            if (d.Name == "overlap") return first == "on" ? "on" : "off";
            return first;
        }
        return null;
    }

    public bool VariesGpus => Varied.Any(d => d.Name == "gpus");

    /// <summary>Knobs that separate scaling curves: every varied knob except the size itself (and a batch that follows the size).</summary>
    public IReadOnlyList<Dimension> SeriesDimensions()
    {
        var exclude = new HashSet<string>(StringComparer.Ordinal) { "nodes", "gpus" };
        var varied = Varied.Select(d => d.Name).ToHashSet(StringComparer.Ordinal);
        if (!varied.Contains("nodes")) exclude.Add("gpus_per_node");
        // A batch that is a function of the size (batch_size_per_gpu) is not a knob of its own.
        if (Ok.GroupBy(r => r.Point.Gpus).All(g => g.Select(r => r.Point.BatchSize).Distinct().Count() <= 1)) exclude.Add("batch_size");
        return Varied.Where(d => !exclude.Contains(d.Name)).ToList();
    }

    public string SeriesLabel(SweepRow r, IReadOnlyList<Dimension> dims) =>
        dims.Count == 0 ? "all" : string.Join(", ", dims.Select(d => $"{d.Label} {d.Text(r)}"));

    /// <summary>Throughput and efficiency against GPUs, one series per combination of the other varied knobs (the fastest <see cref="MaxSeries"/>).</summary>
    public IReadOnlyList<ScalingSeries> Scaling(out int totalSeries)
    {
        var dims = SeriesDimensions();
        var series = new List<ScalingSeries>();
        foreach (var g in Ok.GroupBy(r => SeriesLabel(r, dims)))
        {
            var byGpus = g.GroupBy(r => r.Point.Gpus).OrderBy(x => x.Key)
                .Select(x => x.OrderByDescending(r => r.SamplesPerSecond).ThenBy(r => r.Key, StringComparer.Ordinal).First()).ToList();
            var first = byGpus[0];
            var perGpu0 = first.SamplesPerSecond!.Value / first.Point.Gpus;
            var points = byGpus.Select(r => new ScalingPoint(r.Point.Gpus, r.SamplesPerSecond!.Value,
                r.SamplesPerSecond.Value / r.Point.Gpus / perGpu0, r)).ToList();
            series.Add(new ScalingSeries(g.Key, points));
        }
        totalSeries = series.Count;
        return series
            .OrderByDescending(s => s.Points[^1].Gpus).ThenByDescending(s => s.Points[^1].SamplesPerSecond).ThenBy(s => s.Label, StringComparer.Ordinal)
            .Take(MaxSeries)
            .OrderBy(s => s.Points[0].Row, RowOrder(dims))
            .ToList();
    }

    /// <summary>
    /// The configurations the breakdown chart shows: every feasible row when there are few; else the reference
    /// slice along one knob (GPUs when they vary), the other varied knobs at their reference values.
    /// </summary>
    public IReadOnlyList<SweepRow> BreakdownRows(out Dimension? along, out string fixedText, int maxAll = 16)
    {
        if (Ok.Count <= maxAll)
        {
            along = null;
            fixedText = "";
            return SortByVaried(Ok);
        }
        along = VariesGpus ? Dim("gpus") : Varied.FirstOrDefault(d => Ok.Select(d.Text).Distinct().Skip(1).Any());
        var keep = along is null ? [] : new[] { along.Name, "nodes", "gpus_per_node", "batch_size" }.ToHashSet(StringComparer.Ordinal);
        var slice = Slice(keep, out fixedText);
        var a = along;
        return a is null ? slice : slice.GroupBy(a.Text).Select(g => g.OrderBy(r => r.Key, StringComparer.Ordinal).First())
            .OrderBy(r => a.Text(r), a.Comparer(Ok)).ToList();
    }

    /// <summary>Feasible rows whose varied knobs, except those in <paramref name="free"/>, take their reference values.</summary>
    public IReadOnlyList<SweepRow> Slice(IReadOnlySet<string> free, out string fixedText)
    {
        var pinned = Varied.Where(d => !free.Contains(d.Name)).ToList();
        fixedText = string.Join(", ", pinned.Select(d => $"{d.Label} {Reference[d.Name]}"));
        return Ok.Where(r => pinned.All(d => d.Text(r) == Reference[d.Name])).ToList();
    }

    /// <summary>Two knobs to cross in the heatmap: GPUs and the next varied knob, or the first two varied knobs.</summary>
    public (Dimension X, Dimension Y)? DefaultHeatmapAxes()
    {
        var candidates = Varied.Where(d => d.Name is not ("nodes" or "topology" or "workload")).ToList();
        if (VariesGpus)
        {
            candidates.RemoveAll(d => d.Name == "gpus_per_node" && !Varied.Any(v => v.Name == "nodes"));
            candidates.RemoveAll(d => d.Name == "batch_size" && !SeriesDimensions().Any(s => s.Name == "batch_size"));
        }
        var x = candidates.FirstOrDefault(d => d.Name == "gpus") ?? candidates.FirstOrDefault();
        var y = candidates.FirstOrDefault(d => d != x && d.Name != "gpus_per_node") ?? candidates.FirstOrDefault(d => d != x);
        return x is null || y is null ? null : (x, y);
    }

    /// <summary>Samples/s over two knobs, the other varied knobs at their reference values (best row where several remain).</summary>
    public HeatmapData Heatmap(Dimension x, Dimension y)
    {
        var free = new HashSet<string>(StringComparer.Ordinal) { x.Name, y.Name };
        if (x.Name == "gpus" || y.Name == "gpus") { free.Add("nodes"); free.Add("gpus_per_node"); free.Add("batch_size"); }
        var slice = Slice(free, out var fixedText);
        var xs = Rows.Select(x.Text).Distinct().Order(x.Comparer(Rows)).ToList();
        var ys = Rows.Select(y.Text).Distinct().Order(y.Comparer(Rows)).ToList();
        var values = new double[ys.Count, xs.Count];
        for (var i = 0; i < ys.Count; i++)
            for (var j = 0; j < xs.Count; j++)
                values[i, j] = double.NaN;
        foreach (var r in slice)
        {
            var i = ys.IndexOf(y.Text(r));
            var j = xs.IndexOf(x.Text(r));
            var v = r.SamplesPerSecond!.Value;
            if (double.IsNaN(values[i, j]) || v > values[i, j]) values[i, j] = v;
        }
        return new HeatmapData(x, y, xs, ys, values, fixedText);
    }

    /// <summary>Orders rows by the given knobs, numbers numerically.</summary>
    public IComparer<SweepRow> RowOrder(IReadOnlyList<Dimension> dims)
    {
        var comparers = dims.Select(d => (d, d.Comparer(Rows))).ToList();
        return Comparer<SweepRow>.Create((a, b) =>
        {
            foreach (var (d, c) in comparers)
            {
                var k = c.Compare(d.Text(a), d.Text(b));
                if (k != 0) return k;
            }
            return string.CompareOrdinal(a.Key, b.Key);
        });
    }

    /// <summary>Rows ordered by the varied knobs (numbers numerically), then key.</summary>
    public IReadOnlyList<SweepRow> SortByVaried(IEnumerable<SweepRow> rows)
    {
        IOrderedEnumerable<SweepRow>? ordered = null;
        foreach (var d in Varied)
        {
            var cmp = d.Comparer(Rows);
            ordered = ordered is null ? rows.OrderBy(d.Text, cmp) : ordered.ThenBy(d.Text, cmp);
        }
        return (ordered is null ? rows.OrderBy(r => r.Key, StringComparer.Ordinal) : ordered.ThenBy(r => r.Key, StringComparer.Ordinal)).ToList();
    }

    /// <summary>Short label of a row by its varied knobs (for bar charts).</summary>
    /// <summary>One curve per combination of the other varied knobs: samples/s and slowdown against background load (empty when it does not vary).</summary>
    public IReadOnlyList<BackgroundSeries> Background()
    {
        if (!Varied.Any(d => d.Name == "background_load")) return [];
        var others = Varied.Where(d => d.Name != "background_load").ToList();
        string Label(SweepRow r) => others.Count == 0 ? "all" : string.Join(", ", others.Select(d => $"{d.Label} {d.Text(r)}"));
        return Ok.GroupBy(Label).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
        {
            var rows = g.OrderBy(r => r.Point.BackgroundLoad).ToList();
            var first = rows[0].IterationSeconds!.Value;
            return new BackgroundSeries(g.Key, rows.Select(r => (r.Point.BackgroundLoad, r.SamplesPerSecond!.Value, r.IterationSeconds!.Value / first)).ToList());
        }).ToList();
    }

    /// <summary>Rows with an iteration distribution (jitter): p50, p90, p99.</summary>
    public IReadOnlyList<SweepRow> Distributions()
    {
        IEnumerable<SweepRow> rows = Ok.Where(r => r.IterationSecondsP50 is not null && r.Point.JitterSigma > 0);
        // In the order of the varied knobs (numbers by value), so neighbours differ in one knob.
        IOrderedEnumerable<SweepRow>? ordered = null;
        foreach (var d in Varied)
        {
            var cmp = d.Comparer(Ok);
            ordered = ordered is null ? rows.OrderBy(d.Text, cmp) : ordered.ThenBy(d.Text, cmp);
        }
        return (ordered ?? rows).ToList();
    }

    public string RowLabel(SweepRow r, Dimension? only = null) =>
        only is not null ? $"{only.Text(r)}{(only.Name == "gpus" ? " GPUs" : "")}"
        : string.Join(" ", Varied.Where(d => d.Name != "nodes" || !Varied.Any(v => v.Name == "gpus")).Select(d => d.Name == "gpus" ? $"{d.Text(r)} GPUs" : d.Text(r)));
}
