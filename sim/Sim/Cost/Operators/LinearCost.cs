namespace Sim.Cost.Operators;

/// <summary>
/// A cost that is a non-negative combination of named terms: seconds = Σ coefficient_i · feature_i. Each operator
/// model picks the terms its kernel really has (per launch, per lookup, per byte, per unique row), so a plan that
/// multiplies lookups at a smaller width is priced by lookups, not only by bytes.
/// </summary>
/// <param name="Terms">Feature name to seconds per unit of that feature (e.g. "lookups": 6e-10).</param>
public sealed record LinearCost(IReadOnlyDictionary<string, double> Terms)
{
    public static readonly LinearCost Zero = new(new Dictionary<string, double>());

    // The coefficients of the known terms, read once: pricing a shard allocates nothing.
    private readonly double _calls = Get(Terms, CostTerms.Calls), _lookups = Get(Terms, CostTerms.Lookups),
        _lookupBytes = Get(Terms, CostTerms.LookupBytes), _pooledBytes = Get(Terms, CostTerms.PooledBytes),
        _uniqueRowBytes = Get(Terms, CostTerms.UniqueRowBytes), _params = Get(Terms, CostTerms.Parameters),
        _slices = Get(Terms, CostTerms.Slices), _bytes = Get(Terms, CostTerms.Bytes);

    private static double Get(IReadOnlyDictionary<string, double> t, string name) => t.TryGetValue(name, out var c) ? c : 0;

    /// <summary>Seconds of one call on an embedding shard.</summary>
    public double Shard(in ShardLoad s) =>
        _calls + _lookups * s.Lookups + _lookupBytes * s.LookupBytes + _pooledBytes * s.PooledBytes + _uniqueRowBytes * s.UniqueRowBytes;

    /// <summary>Seconds of an optimizer step over <paramref name="parameters"/> parameters.</summary>
    public double Step(double parameters) => _calls + _params * parameters;

    /// <summary>Seconds of cutting and reassembling <paramref name="slices"/> slices of <paramref name="bytes"/> bytes in all.</summary>
    public double SlicesOf(double slices, double bytes) => _calls + _slices * slices + _bytes * bytes;

    /// <summary>Seconds for the given feature values; a term whose feature is absent counts zero.</summary>
    public double Seconds(IReadOnlyDictionary<string, double> features)
    {
        double s = 0;
        foreach (var (name, c) in Terms)
            if (features.TryGetValue(name, out var x)) s += c * x;
        return s;
    }

    public double Coefficient(string name) => Terms.TryGetValue(name, out var c) ? c : 0;

    public static LinearCost Of(params (string Name, double Coefficient)[] terms) =>
        new(terms.ToDictionary(t => t.Name, t => t.Coefficient));
}

/// <summary>The names of the terms operator models are written in, one place for the model and its fitter.</summary>
internal static class CostTerms
{
    /// <summary>One per call (a shard, an optimizer step): fixed launch and framework cost.</summary>
    public const string Calls = "calls";
    /// <summary>Rows read per lookup (an index into a table).</summary>
    public const string Lookups = "lookups";
    /// <summary>Bytes of rows gathered (lookups × row bytes).</summary>
    public const string LookupBytes = "lookup_bytes";
    /// <summary>Bytes of pooled vectors written (forward) or read (backward).</summary>
    public const string PooledBytes = "pooled_bytes";
    /// <summary>Bytes of distinct rows (and their optimizer state) updated.</summary>
    public const string UniqueRowBytes = "unique_row_bytes";
    /// <summary>Parameters an optimizer step updates.</summary>
    public const string Parameters = "params";
    /// <summary>Slices autograd cuts and reassembles.</summary>
    public const string Slices = "slices";
    /// <summary>Tensors (or tables) a call loops over, each with its own kernels and host work.</summary>
    public const string Tensors = "tensors";
    /// <summary>Bytes of a tensor moved once.</summary>
    public const string Bytes = "bytes";

    /// <summary>
    /// Bytes the backward of cutting a buffer into slices moves: autograd gives each slice's gradient a zeroed buffer of
    /// the whole input's size, so the traffic grows with slices × buffer bytes (quadratic in slices), as measured.
    /// </summary>
    public static double SliceBytes(double slices, double bufferBytes) => slices * bufferBytes;
}
