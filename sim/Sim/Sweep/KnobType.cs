using System.Data.Common;
using System.Globalization;
using System.Numerics;
using System.Text;
using DuckDB.NET.Data;
using Sim.Hardware;
using Sim.Predictions;

namespace Sim.Sweep;

/// <summary>
/// How a knob's values of one type are written everywhere a sweep writes them: in a key's canonical text, as a
/// results column (DuckDB type, write, read back), in a report, and how a sweep file's value (a long, double,
/// string or bool, as <see cref="SweepLoader"/> reads it) becomes one. Generic so that a row's hot path neither
/// boxes nor reflects.
/// </summary>
internal abstract class KnobType<T>
{
    public abstract AxisValueKind AxisKind { get; }
    public abstract string SqlType { get; }
    /// <summary>The value as a key's canonical text writes it (invariant, round-trip: keys must never drift), formatted in place.</summary>
    public abstract void AppendKey(StringBuilder sb, T value);
    public abstract IDuckDBAppenderRow Append(IDuckDBAppenderRow row, T value);
    public abstract T Read(DbDataReader r, int ordinal);
    public abstract T FromAxis(object value);
    /// <summary>The value as a report shows it.</summary>
    public abstract string Show(T value);
    /// <summary>Whether a report sorts and plots the values by <see cref="Number"/> rather than as text.</summary>
    public virtual bool IsNumeric => false;
    public virtual double Number(T value) => throw new NotSupportedException($"{typeof(T).Name} knobs are not numbers");
}

/// <summary>The value types of the catalogue's knobs (<see cref="SweepKnobs"/>).</summary>
internal static class KnobTypes
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static KnobType<int> Int { get; } = new NumberType<int>(AxisValueKind.Integer, "INTEGER", null, null,
        v => (int)(long)v, (row, v) => row.AppendValue((int?)v), (r, i) => r.GetInt32(i));
    public static KnobType<long> Long { get; } = new NumberType<long>(AxisValueKind.Integer, "BIGINT", null, null,
        v => (long)v, (row, v) => row.AppendValue((long?)v), (r, i) => r.GetInt64(i));
    // Short in a report; the key keeps every digit.
    public static KnobType<double> Number { get; } = new NumberType<double>(AxisValueKind.Number, "DOUBLE", "R", "0.###",
        v => (double)v, (row, v) => row.AppendValue((double?)v), (r, i) => r.GetDouble(i));
    public static KnobType<bool> Switch { get; } = new SwitchType();
    public static KnobType<string> Word { get; } = new WordType<string>(w => w, w => w);
    public static KnobType<DType> Precision { get; } = new WordType<DType>(w => DTypes.Words[w], PrecisionName);
    public static KnobType<PredictionMode> Mode { get; } = new WordType<PredictionMode>(w => PredictionModes.Parse(w, "mode"), m => m.Word());

    // DType.Name() searches the word table with LINQ; a key writes four precisions per row, so they are looked up once.
    private static readonly string?[] PrecisionNames = [.. Enum.GetValues<DType>().Select(t => DTypes.Words.FirstOrDefault(kv => kv.Value == t).Key)];

    private static string PrecisionName(DType t) => (uint)t < PrecisionNames.Length && PrecisionNames[(int)t] is { } w ? w : t.Name();

    /// <summary>A number: in keys with every digit (<paramref name="keyFormat"/>), in reports short (<paramref name="showFormat"/>).</summary>
    private sealed class NumberType<T>(AxisValueKind axisKind, string sqlType, string? keyFormat, string? showFormat, Func<object, T> fromAxis,
        Func<IDuckDBAppenderRow, T, IDuckDBAppenderRow> append, Func<DbDataReader, int, T> read) : KnobType<T>
        where T : struct, INumber<T>
    {
        public override AxisValueKind AxisKind => axisKind;
        public override string SqlType => sqlType;
        public override void AppendKey(StringBuilder sb, T v)
        {
            Span<char> text = stackalloc char[32];
            if (v.TryFormat(text, out var n, keyFormat, Inv)) sb.Append(text[..n]);
            else sb.Append(v.ToString(keyFormat, Inv));
        }
        public override IDuckDBAppenderRow Append(IDuckDBAppenderRow row, T v) => append(row, v);
        public override T Read(DbDataReader r, int ordinal) => read(r, ordinal);
        public override T FromAxis(object v) => fromAxis(v);
        public override string Show(T v) => v.ToString(showFormat, Inv);
        public override bool IsNumeric => true;
        public override double Number(T v) => double.CreateChecked(v);
    }

    /// <summary>on/off in sweep files and reports; true/false in keys (the first keys were written so).</summary>
    private sealed class SwitchType : KnobType<bool>
    {
        public override AxisValueKind AxisKind => AxisValueKind.Switch;
        public override string SqlType => "BOOLEAN";
        public override void AppendKey(StringBuilder sb, bool v) => sb.Append(v ? "true" : "false");
        public override IDuckDBAppenderRow Append(IDuckDBAppenderRow row, bool v) => row.AppendValue((bool?)v);
        public override bool Read(DbDataReader r, int ordinal) => r.GetBoolean(ordinal);
        public override bool FromAxis(object v) => (bool)v;
        public override string Show(bool v) => v ? "on" : "off";
        public override bool IsNumeric => true;
        public override double Number(bool v) => v ? 1 : 0;
    }

    /// <summary>A value named by a word: the same word in the sweep file, the key, the column and the report.</summary>
    private sealed class WordType<T>(Func<string, T> parse, Func<T, string> word) : KnobType<T>
    {
        public override AxisValueKind AxisKind => AxisValueKind.Word;
        public override string SqlType => "VARCHAR";
        public override void AppendKey(StringBuilder sb, T v) => sb.Append(word(v));
        public override IDuckDBAppenderRow Append(IDuckDBAppenderRow row, T v) => row.AppendValue(word(v));
        public override T Read(DbDataReader r, int ordinal) => parse(r.GetString(ordinal));
        public override T FromAxis(object v) => parse((string)v);
        public override string Show(T v) => word(v);
    }
}
