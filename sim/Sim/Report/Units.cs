using System.Globalization;

namespace Sim;

/// <summary>Human formatting of bytes and seconds (decimal units, as spec sheets use).</summary>
internal static class Units
{
    public static string Bytes(double bytes)
    {
        string[] u = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
        var i = 0;
        while (Math.Abs(bytes) >= 1000 && i < u.Length - 1) { bytes /= 1000; i++; }
        return bytes.ToString(i == 0 ? "0" : "0.00", CultureInfo.InvariantCulture) + " " + u[i];
    }

    public static string Seconds(double s)
    {
        var a = Math.Abs(s);
        return a == 0 ? "0 s"
            : a < 1e-3 ? (s * 1e6).ToString("0.0", CultureInfo.InvariantCulture) + " us"
            : a < 1 ? (s * 1e3).ToString("0.000", CultureInfo.InvariantCulture) + " ms"
            : s.ToString("0.000", CultureInfo.InvariantCulture) + " s";
    }
}
