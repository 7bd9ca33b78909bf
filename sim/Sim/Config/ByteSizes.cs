using System.Globalization;

namespace Sim.Config;

/// <summary>
/// Message sizes as a user types them: plain bytes (4096), binary units (4KiB, 64MiB, 1GiB; K, M, G alone
/// are binary too, as in nccl-tests), decimal units (4KB, 1GB), a range doubling from one size to another
/// (1KiB..1GiB, as nccl-tests -b/-e/-f 2), or a comma list. Errors name the option and the bad piece.
/// </summary>
internal static class ByteSizes
{
    public const int MaxSizes = 64;
    public const double MaxBytes = 1L << 40;

    private static readonly (string Suffix, double Factor)[] Units =
    [
        ("kib", 1024), ("mib", 1 << 20), ("gib", 1 << 30), ("tib", 1L << 40),
        ("kb", 1e3), ("mb", 1e6), ("gb", 1e9), ("tb", 1e12),
        ("k", 1024), ("m", 1 << 20), ("g", 1 << 30), ("t", 1L << 40),
        ("b", 1),
    ];

    public static IReadOnlyList<double> Parse(string text, string option = "--bytes")
    {
        if (string.IsNullOrWhiteSpace(text)) throw Bad(option, "a size is required, e.g. 1MiB or 1KiB..1GiB");
        var sizes = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var dots = part.IndexOf("..", StringComparison.Ordinal);
            if (dots < 0) { sizes.Add(One(part, option)); continue; }
            var from = One(part[..dots], option);
            var to = One(part[(dots + 2)..], option);
            if (to < from) throw Bad(option, $"range '{part}' ends below where it starts");
            for (var s = from; s <= to; s *= 2)
            {
                sizes.Add(s);
                if (sizes.Count > MaxSizes) throw Bad(option, $"more than {MaxSizes} sizes; narrow the range");
            }
        }
        if (sizes.Count > MaxSizes) throw Bad(option, $"more than {MaxSizes} sizes; narrow the range");
        return sizes;
    }

    private static double One(string text, string option)
    {
        var t = text.Trim().Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
        double factor = 1;
        foreach (var (suffix, f) in Units)
        {
            if (!t.EndsWith(suffix, StringComparison.Ordinal)) continue;
            factor = f;
            t = t[..^suffix.Length].Trim();
            break;
        }
        if (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw Bad(option, $"'{text.Trim()}' is not a size; use bytes (4096) or a unit: KiB, MiB, GiB (binary), KB, MB, GB (decimal)");
        var bytes = v * factor;
        if (bytes < 1) throw Bad(option, $"'{text.Trim()}' must be at least 1 byte");
        if (bytes != Math.Floor(bytes)) throw Bad(option, $"'{text.Trim()}' is not a whole number of bytes");
        if (bytes > MaxBytes) throw Bad(option, $"'{text.Trim()}' is larger than the 1 TiB limit");
        return bytes;
    }

    private static SimInputException Bad(string option, string problem) => new(option, "", problem);

    /// <summary>Binary-unit spelling of a size, as nccl-tests users read them (1 KiB, 64 MiB).</summary>
    public static string Format(double bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        var i = 0;
        while (bytes >= 1024 && i < units.Length - 1 && bytes % 1024 == 0) { bytes /= 1024; i++; }
        return bytes.ToString("0.##", CultureInfo.InvariantCulture) + " " + units[i];
    }
}
