using Sim.Workload;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Sim.Harness.Training;

/// <summary>A block of a table on its device: the EmbeddingBag that reads it and its optimizer state.</summary>
public sealed class TableBlock : IDisposable
{
    public EmbeddingBag Bag { get; }
    /// <summary>The block's rows x cols weights (the bag's weight; updated in place).</summary>
    public Parameter Weight { get; }
    /// <summary>Row-wise Adagrad's per-row sum of mean squared gradients (rows), or null for SGD.</summary>
    public Tensor? State { get; }

    public TableBlock(Tensor weights, Optimizer optimizer)
    {
        var device = weights.device;
        var rows = weights.shape[0];
        Bag = torch.nn.EmbeddingBag(1, weights.shape[1], mode: EmbeddingBagMode.Sum, device: device);
        // The Parameter takes over the tensor's handle: from here on only Weight refers to it.
        Weight = new Parameter(weights, requires_grad: false);
        Bag.weight = Weight;
        State = optimizer == Optimizer.RowWiseAdagrad ? torch.zeros(rows, dtype: ScalarType.Float32, device: device) : null;
    }

    /// <summary>Sum-pooled lookups: bag i is indices [offsets[i], offsets[i+1]); an empty bag gives a zero row.</summary>
    public Tensor Lookup(Tensor indices, Tensor offsets)
    {
        using var _ = torch.no_grad();
        return Bag.forward(indices, offsets, null);
    }

    public void Dispose()
    {
        Bag.Dispose();
        Weight.Dispose();
        State?.Dispose();
    }
}

/// <summary>The embedding backward with the optimizer fused in, as FBGEMM's table-batched embeddings do it.</summary>
public static class EmbeddingOps
{
    /// <summary>Adagrad's epsilon (FBGEMM's default).</summary>
    public const double Eps = 1e-8;

    /// <summary>
    /// Backward of a sum-pooled lookup followed by the optimizer step, touching only rows that were looked up:
    /// each lookup's gradient is its bag's pooled gradient; gradients of the same row are summed; then SGD
    /// (w -= lr·g) or row-wise Adagrad (G += mean over the row of g², w -= lr·g / (sqrt(G) + eps)).
    /// Rows that were not looked up have a zero gradient, and both optimizers leave such rows unchanged, so this
    /// equals the dense update of the whole table.
    /// </summary>
    /// <param name="indices">Block-local row of every lookup (n).</param>
    /// <param name="offsets">Start of every bag in <paramref name="indices"/> (B, first is 0).</param>
    /// <param name="pooledGrad">Gradient of every bag's pooled vector (B x cols).</param>
    public static void BackwardAndUpdate(TableBlock block, Tensor indices, Tensor offsets, Tensor pooledGrad, double lr)
    {
        var n = indices.shape[0];
        if (n == 0) return;
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var bags = offsets.shape[0];
        var dev = indices.device;
        // Bag of every lookup: count the bag starts at or before each position.
        var marks = torch.zeros(n + 1, dtype: ScalarType.Int64, device: dev);
        if (bags > 1) marks.index_add_(0, offsets.narrow(0, 1, bags - 1), torch.ones(bags - 1, dtype: ScalarType.Int64, device: dev), 1);
        var bagOf = marks.cumsum(0).narrow(0, 0, n);
        var perLookup = pooledGrad.index_select(0, bagOf);                        // n x cols
        var (rows, inverse, _) = torch.unique(indices, sorted: true, return_inverse: true);
        var rowGrad = torch.zeros(rows.shape[0], pooledGrad.shape[1], dtype: pooledGrad.dtype, device: dev)
            .index_add_(0, inverse!, perLookup, 1);                                   // unique rows x cols
        Apply(block, rows, rowGrad, lr);
    }

    /// <summary>The optimizer step on the given (distinct) rows of a block with their summed gradients.</summary>
    public static void Apply(TableBlock block, Tensor rows, Tensor rowGrad, double lr)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        if (block.State is null)
        {
            block.Weight.index_add_(0, rows, rowGrad, -lr);
            return;
        }
        var g2 = block.State.index_select(0, rows).add_(rowGrad.square().mean([1]));
        block.State.index_copy_(0, rows, g2);
        var step = rowGrad.div(g2.sqrt().add_(Eps).unsqueeze(1)).mul_(lr);
        block.Weight.index_copy_(0, rows, block.Weight.index_select(0, rows).sub_(step));
    }

    /// <summary>The optimizer step on a whole block from a dense gradient (data-parallel tables after the all-reduce).</summary>
    public static void ApplyDense(TableBlock block, Tensor grad, double lr)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        if (block.State is null)
        {
            block.Weight.add_(grad, -lr);
            return;
        }
        block.State.add_(grad.square().mean([1]));
        block.Weight.sub_(grad.div(block.State.sqrt().add(Eps).unsqueeze(1)).mul_(lr));
    }
}
