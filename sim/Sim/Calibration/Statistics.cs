namespace Sim.Calibration;

/// <summary>Error and rank statistics used to report how far predictions are from measurements.</summary>
internal static class Statistics
{
    /// <summary>(predicted - measured) / measured.</summary>
    public static double RelativeError(double predicted, double measured) => (predicted - measured) / measured;

    /// <summary>Mean absolute percentage error, as a fraction (0.05 = 5%).</summary>
    public static double Mape(IEnumerable<(double Predicted, double Measured)> pairs)
    {
        var list = pairs.ToList();
        return list.Count == 0 ? 0 : list.Average(p => Math.Abs(RelativeError(p.Predicted, p.Measured)));
    }

    /// <summary>Kendall's tau-b between two orderings: 1 = same order, -1 = reversed, 0 = unrelated.</summary>
    public static double KendallTau(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count) throw new ArgumentException("lists differ in length");
        long concordant = 0, discordant = 0, tiesA = 0, tiesB = 0;
        for (var i = 0; i < a.Count; i++)
            for (var j = i + 1; j < a.Count; j++)
            {
                var da = Math.Sign(a[i] - a[j]);
                var db = Math.Sign(b[i] - b[j]);
                if (da == 0 && db == 0) continue;
                if (da == 0) tiesA++;
                else if (db == 0) tiesB++;
                else if (da == db) concordant++;
                else discordant++;
            }
        var denominator = Math.Sqrt((double)(concordant + discordant + tiesA) * (concordant + discordant + tiesB));
        return denominator == 0 ? 0 : (concordant - discordant) / denominator;
    }

    /// <summary>
    /// Line y = intercept + slope·x minimising the squared relative errors Σ((ŷ - y)/y)²: every point counts
    /// alike whether it is a microsecond or a second (weighted least squares, weights 1/y², via MathNet).
    /// </summary>
    public static (double Intercept, double Slope) RelativeLine(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count < 2 || x.Distinct().Count() == 1) return Line(x, y);
        var design = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(x.Count, 2, (i, j) => j == 0 ? 1 : x[i]);
        var target = MathNet.Numerics.LinearAlgebra.Vector<double>.Build.DenseOfEnumerable(y);
        var weights = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.DenseDiagonal(x.Count, x.Count, i => 1 / (y[i] * y[i]));
        var beta = MathNet.Numerics.LinearRegression.WeightedRegression.Weighted(design, target, weights);
        return (beta[0], beta[1]);
    }

    /// <summary>
    /// Theil–Sen line: the median of the slopes between all pairs of points with different x, and the median
    /// intercept. One outlying run (a noisy phase) cannot drag it, unlike least squares.
    /// </summary>
    public static (double Intercept, double Slope) RobustLine(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var slopes = new List<double>();
        for (var i = 0; i < x.Count; i++)
            for (var j = i + 1; j < x.Count; j++)
                if (Math.Abs(x[j] - x[i]) > 1e-12 * Math.Max(Math.Abs(x[i]), Math.Abs(x[j])))
                    slopes.Add((y[j] - y[i]) / (x[j] - x[i]));
        if (slopes.Count == 0) return (0, y.Sum() / Math.Max(x.Sum(), 1e-300));
        var slope = Median(slopes);
        return (Median(x.Select((xi, i) => y[i] - slope * xi).ToList()), slope);
    }

    public static double Median(IReadOnlyList<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : 0.5 * (s[s.Length / 2 - 1] + s[s.Length / 2]);
    }

    /// <summary>Least-squares line y = intercept + slope·x (MathNet.Numerics).</summary>
    public static (double Intercept, double Slope) Line(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count == 0) throw new ArgumentException("no points to fit");
        if (x.Count == 1 || x.Distinct().Count() == 1) return (0, y.Average() / Math.Max(x.Average(), 1e-300));
        var (intercept, slope) = MathNet.Numerics.Fit.Line(x.ToArray(), y.ToArray());
        return (intercept, slope);
    }
}
