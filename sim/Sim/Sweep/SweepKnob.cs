using System.Data.Common;
using System.Text;
using DuckDB.NET.Data;
using Sim.Topology;
using Sim.Workload;
using Sim.Conditions;

namespace Sim.Sweep;

/// <summary>
/// One entry of the knob catalogue (<see cref="SweepKnobs"/>): everything a sweep does with one knob, so that adding
/// or changing a knob is one edit (and, for a new field, a property on <see cref="SweepPoint"/>). What an entry takes
/// part in follows from what it defines:
/// <list type="bullet">
/// <item>get and set (a field of the point): a line of the key's canonical text, a results column, read back;</item>
/// <item>get only (derived, like the GPU count): a results column, never in the key;</item>
/// <item>set only (an axis that sets other knobs, like comm_precision): nothing stored;</item>
/// <item>help: an axis of the sweep file; label: a report dimension; a default: a late knob (<see cref="IsLate"/>);</item>
/// <item>FromCluster or FromWorkload: the base point's value (and so written back by the evaluator); ToConditions: a condition.</item>
/// </list>
/// </summary>
internal abstract class SweepKnob
{
    /// <summary>The name in sweep files, keys, results columns and reports.</summary>
    public required string Name { get => _name; init { _name = value; KeyPrefix = value + "="; } }
    private readonly string _name = "";
    private protected string KeyPrefix { get; private init; } = "";

    /// <summary>A field of the point: in the key, in a column, read back from the store.</summary>
    public abstract bool IsStored { get; }
    /// <summary>Has a results column (stored or derived).</summary>
    public abstract bool HasColumn { get; }
    /// <summary>
    /// Added after results were first stored, with a default that means "as before": the key writes it only off the
    /// default and it comes after the other knobs, its column after the prediction's, so older keys stay valid.
    /// </summary>
    public abstract bool IsLate { get; }
    public abstract string SqlType { get; }
    /// <summary>Made once, by the catalogue (<see cref="SweepAxis.All"/>, <see cref="SweepAnalysis.AllDimensions"/>).</summary>
    internal abstract SweepAxis? CreateAxis();
    internal abstract Dimension? CreateDimension();

    /// <summary>Other axes this one cannot be combined with (both would set the same knob).</summary>
    public IReadOnlyList<string> ConflictsWith { get; init; } = [];

    /// <summary>Appends <c>name=value</c> and a newline to a key's canonical text (nothing for a late knob at its default).</summary>
    public abstract void AppendKey(StringBuilder sb, SweepPoint p);
    public abstract IDuckDBAppenderRow Append(IDuckDBAppenderRow row, SweepPoint p);
    public abstract SweepPoint Read(SweepPoint p, DbDataReader r, int ordinal);

    /// <summary>The point with this knob set to the base inputs' own value (unchanged where the inputs do not hold it).</summary>
    public abstract SweepPoint FromInputs(SweepPoint p, Cluster c, DlrmWorkload w);
    /// <summary>Read from the base cluster or workload (and so written back into them for each point).</summary>
    public abstract bool IsFromInputs { get; }
    public abstract bool ChangesConditions { get; }
    /// <summary>Conditions knobs change the conditions only off their default (the ideal cluster).</summary>
    public abstract OperatingConditions ApplyTo(OperatingConditions o, SweepPoint p);
    public abstract bool IsOffDefault(SweepPoint p);
    /// <summary>The point with a late knob at its default (unchanged for the others).</summary>
    public abstract SweepPoint AtDefault(SweepPoint p);
}

/// <summary>A knob with values of type <typeparamref name="T"/>; see <see cref="SweepKnob"/> for what each member enables.</summary>
internal sealed class SweepKnob<T> : SweepKnob
{
    public required KnobType<T> Type { get; init; }
    public Func<SweepPoint, T>? Get { get; init; }
    public Func<SweepPoint, T, SweepPoint>? Set { get; init; }

    private readonly T _default = default!;
    /// <summary>Setting it makes the knob late (<see cref="SweepKnob.IsLate"/>).</summary>
    public T Default { get => _default; init { _default = value; _hasDefault = true; } }
    private readonly bool _hasDefault;

    /// <summary>The axis's help; null: no axis of its own.</summary>
    public string? Help { get; init; }
    /// <summary>Accepted range of a numeric axis; <see cref="AllowsZero"/> and <see cref="MaxExclusive"/> as on <see cref="SweepAxis"/>.</summary>
    public double Min { get; init; }
    public double Max { get; init; }
    public bool AllowsZero { get; init; }
    public bool MaxExclusive { get; init; }
    public IReadOnlyList<string>? Words { get; init; }
    /// <summary>
    /// Set for a knob only the event engine sees (an analytical sweep varying it would give identical rows, silently):
    /// the loader's message for such an axis in an analytical sweep.
    /// </summary>
    public string? EventOnly { get; init; }

    /// <summary>The report's label; null: no report dimension.</summary>
    public string? Label { get; init; }
    /// <summary>The report's text of a point's value when the type's own does not suit (bytes as GB).</summary>
    public Func<SweepPoint, string>? Show { get; init; }

    /// <summary>The base cluster's or workload's value (the base point's).</summary>
    public Func<Cluster, T>? FromCluster { get; init; }
    public Func<DlrmWorkload, T>? FromWorkload { get; init; }
    /// <summary>A point's value laid on its conditions, off the default only (a conditions knob needs a default: the ideal cluster).</summary>
    public Func<OperatingConditions, T, OperatingConditions>? ToConditions { get; init; }

    public override bool IsStored => Get is not null && Set is not null;
    public override bool HasColumn => Get is not null;
    public override bool IsLate => _hasDefault;
    public override string SqlType => Type.SqlType;
    public override bool IsFromInputs => FromCluster is not null || FromWorkload is not null;
    public override bool ChangesConditions => ToConditions is not null;

    internal override SweepAxis? CreateAxis() => Help is null ? null
        : new SweepAxis(Name, Help, Type.AxisKind, (p, v) => Set!(p, Type.FromAxis(v)), Min, Max, Words, AllowsZero, MaxExclusive, EventOnly);

    internal override Dimension? CreateDimension() => Label is null ? null
        : new Dimension(Name, Label, Show is { } show ? r => show(r.Point) : r => Type.Show(Get!(r.Point)),
            Get is { } get && Type.IsNumeric ? r => Type.Number(get(r.Point)) : null);

    public override void AppendKey(StringBuilder sb, SweepPoint p)
    {
        var v = Get!(p);
        if (_hasDefault && EqualityComparer<T>.Default.Equals(v, _default)) return;
        sb.Append(KeyPrefix);
        Type.AppendKey(sb, v);
        sb.Append('\n');
    }

    public override IDuckDBAppenderRow Append(IDuckDBAppenderRow row, SweepPoint p) => Type.Append(row, Get!(p));
    public override SweepPoint Read(SweepPoint p, DbDataReader r, int ordinal) => Set!(p, Type.Read(r, ordinal));

    public override SweepPoint FromInputs(SweepPoint p, Cluster c, DlrmWorkload w) =>
        FromCluster is { } fc ? Set!(p, fc(c)) : FromWorkload is { } fw ? Set!(p, fw(w)) : p;

    public override OperatingConditions ApplyTo(OperatingConditions o, SweepPoint p) =>
        ToConditions is { } f && IsOffDefault(p) ? f(o, Get!(p)) : o;

    public override bool IsOffDefault(SweepPoint p) => _hasDefault && !EqualityComparer<T>.Default.Equals(Get!(p), _default);
    public override SweepPoint AtDefault(SweepPoint p) => _hasDefault ? Set!(p, _default) : p;
}
