using System.Globalization;

namespace Sim.Sweep;

/// <summary>The type of an axis's values, which decides how the sweep file's scalars are read.</summary>
public enum AxisValueKind { Integer, Number, Word, Switch }

/// <summary>
/// One knob a sweep can vary: its name in the sweep file, how its values are read and checked, and how a value
/// changes a <see cref="SweepPoint"/>. Made from the knob catalogue (<see cref="SweepKnobs"/>); <see cref="All"/>
/// is in its order, which is the expansion order.
/// </summary>
public sealed class SweepAxis
{
    public string Name { get; }
    public string Description { get; }
    public AxisValueKind Kind { get; }
    /// <summary>Smallest and largest accepted value of a numeric axis.</summary>
    public double Min { get; }
    public double Max { get; }
    /// <summary>Whether a numeric axis accepts 0 (a load or a spread that may be absent).</summary>
    public bool AllowsZero { get; }
    /// <summary>Whether <see cref="Max"/> itself is refused (a background load of 1 leaves nothing).</summary>
    public bool MaxExclusive { get; }
    /// <summary>Accepted values of a word axis (empty for the others).</summary>
    public IReadOnlyList<string> Words { get; }
    /// <summary>The loader's message when an analytical sweep varies an axis only the event engine sees; null for the others.</summary>
    public string? EventOnly { get; }
    private readonly Func<SweepPoint, object, SweepPoint> _apply;

    internal SweepAxis(string name, string description, AxisValueKind kind, Func<SweepPoint, object, SweepPoint> apply,
        double min, double max, IReadOnlyList<string>? words, bool allowsZero, bool maxExclusive, string? eventOnly)
    {
        Name = name; Description = description; Kind = kind; _apply = apply; Min = min; Max = max; Words = words ?? [];
        AllowsZero = allowsZero; MaxExclusive = maxExclusive; EventOnly = eventOnly;
    }

    /// <summary>The point with this axis set to <paramref name="value"/> (long, double, string or bool by <see cref="Kind"/>).</summary>
    public SweepPoint Apply(SweepPoint p, object value) => _apply(p, value);

    public static string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "on" : "off",
        _ => value.ToString() ?? "",
    };

    public static IReadOnlyList<SweepAxis> All { get; } = [.. SweepKnobs.All.Select(k => k.CreateAxis()).OfType<SweepAxis>()];

    public static SweepAxis? Find(string name) => All.FirstOrDefault(a => a.Name == name);

    /// <summary>Pairs of axes that set the same knob and so cannot both be varied, each pair in catalogue order.</summary>
    public static IReadOnlyList<(string A, string B)> Conflicts { get; } = [.. SweepKnobs.All.SelectMany(k => k.ConflictsWith.Select(other =>
        IndexOf(k.Name) < IndexOf(other) ? (k.Name, other) : (other, k.Name)))];

    private static int IndexOf(string name)
    {
        for (var i = 0; i < SweepKnobs.All.Count; i++) if (SweepKnobs.All[i].Name == name) return i;
        throw new InvalidOperationException($"a conflict names '{name}', which is not in the knob catalogue");
    }
}
