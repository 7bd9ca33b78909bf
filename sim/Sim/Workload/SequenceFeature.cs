namespace Sim.Workload;

public enum LengthDistribution { Fixed, Uniform, Zipf }

/// <summary>
/// A sequence feature: per sample up to <see cref="Length"/> time steps, each one bag of lookups, not pooled across
/// steps. Dense sequence layers run on the padded <see cref="Length"/>; lookups and all-to-all traffic follow the
/// mean length (jagged tensors carry only real steps). Lengths are fixed, uniform over [MinLength, Length], or
/// Zipf over the same range (P(l) ∝ l^-Exponent: most sequences short).
/// </summary>
public sealed record SequenceFeature(int Length, LengthDistribution Distribution = LengthDistribution.Fixed, int MinLength = 1, double Exponent = 0)
{
    public const int MaxLength = 1_000_000;

    public double MeanLength => Distribution switch
    {
        LengthDistribution.Fixed => Length,
        LengthDistribution.Uniform => (MinLength + (double)Length) / 2,
        LengthDistribution.Zipf => ZipfMean(MinLength, Length, Exponent),
        _ => Length,
    };

    private static double ZipfMean(int min, int max, double s)
    {
        double weights = 0, weighted = 0;
        for (var l = max; l >= min; l--)
        {
            var p = Math.Pow(l, -s);
            weights += p;
            weighted += p * l;
        }
        return weighted / weights;
    }

    public string Describe()
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        return Distribution switch
        {
            LengthDistribution.Fixed => $"{Length} steps",
            LengthDistribution.Uniform => string.Create(inv, $"{MinLength}..{Length} steps uniform (mean {MeanLength:0.##})"),
            _ => string.Create(inv, $"{MinLength}..{Length} steps zipf {Exponent:0.###} (mean {MeanLength:0.##})"),
        };
    }
}
