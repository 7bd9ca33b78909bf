using Sim.Hardware;
namespace Sim.Workload.Ops;

/// <summary>
/// Embedding lookup and pooling of one table (or one shard's columns) for a number of samples, forward and backward,
/// in the same terms as the rest of the accounting: rows gathered (with an int8 row's scale and bias), one pooled
/// fp32 vector written per bag, the gradient read back, rows and optimizer state read and written by the fused update.
/// FLOPs: pooling adds (P - 1 per element of each bag), dequantisation of int8 rows (2 per element), and the update
/// (2 per element: scatter-add and apply; 4 with row-wise Adagrad: plus the squared norm and the scaling).
/// </summary>
internal static class EmbeddingOps
{
    /// <param name="lookupShare">Share of the table's lookups this shard serves (1/k for a row-wise shard of k).</param>
    public static KernelWork Forward(EmbeddingTable t, double samples, int columns, double lookupShare = 1)
    {
        double c = columns;
        var lookups = samples * t.LookupsPerSample * lookupShare;
        var vectors = samples * t.VectorsPerSample;
        var pooling = Math.Max(0, lookups - vectors * lookupShare) * c;
        var dequant = t.DType == DType.Int8 ? 2 * lookups * c : 0;
        return new KernelWork("embedding lookup+pool", pooling + dequant, lookups * t.RowBytes(columns) + vectors * c * 4);
    }

    public static KernelWork Backward(EmbeddingTable t, double samples, int columns, Optimizer optimizer, double lookupShare = 1)
    {
        double c = columns;
        var lookups = samples * t.LookupsPerSample * lookupShare;
        var vectors = samples * t.VectorsPerSample;
        var state = (double)optimizer.StateBytesPerRow();
        var flopsPerElement = optimizer == Optimizer.RowWiseAdagrad ? 4 : 2;
        return new KernelWork("embedding backward+update", lookups * c * flopsPerElement,
            vectors * c * 4 + 2 * lookups * t.RowBytes(columns) + 2 * lookups * state);
    }
}
