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
    /// <summary>Whether the weight takes part in autograd (the eager stack); otherwise the fused backward updates it.</summary>
    public bool Autograd { get; }

    /// <param name="autograd">The eager stack: the weight requires grad and lookups build the autograd graph.</param>
    /// <param name="sparse">With <paramref name="autograd"/>: EmbeddingBag(sparse: true), so the weight's gradient is a sparse COO tensor.</param>
    public TableBlock(Tensor weights, Optimizer optimizer, bool autograd = false, bool sparse = false)
    {
        var device = weights.device;
        var rows = weights.shape[0];
        Autograd = autograd;
        Bag = torch.nn.EmbeddingBag(1, weights.shape[1], mode: EmbeddingBagMode.Sum, sparse: autograd && sparse, device: device);
        // The Parameter takes over the tensor's handle: from here on only Weight refers to it.
        Weight = new Parameter(weights, requires_grad: autograd);
        Bag.weight = Weight;
        State = optimizer == Optimizer.RowWiseAdagrad ? torch.zeros(rows, dtype: ScalarType.Float32, device: device) : null;
    }

    /// <summary>Sum-pooled lookups without autograd: bag i is indices [offsets[i], offsets[i+1]); an empty bag gives a zero row.</summary>
    public Tensor Lookup(Tensor indices, Tensor offsets)
    {
        using var _ = torch.no_grad();
        return Bag.forward(indices, offsets, null);
    }

    /// <summary>Sum-pooled lookups recorded by autograd (the eager stack): backward through the result gives the weight its gradient.</summary>
    public Tensor LookupWithGrad(Tensor indices, Tensor offsets)
    {
        using var _ = torch.enable_grad();
        return Bag.forward(indices, offsets, null);
    }

    public void Dispose()
    {
        Bag.Dispose();
        Weight.Dispose();
        State?.Dispose();
    }
}

/// <summary>The embedding backward with the optimizer fused in, as FBGEMM's table-batched embeddings do it (the fused stack).</summary>
public static class EmbeddingOps
{
    /// <summary>Adagrad's epsilon (FBGEMM's default).</summary>
    public const double Eps = 1e-8;

    /// <summary>
    /// Backward of a sum-pooled lookup followed by the optimizer step, touching only rows that were looked up:
    /// each lookup's gradient is its bag's pooled gradient; then SGD (w -= lr·g, with index_add_ summing the
    /// gradients of a row that was looked up more than once, no unique needed) or row-wise Adagrad (gradients of
    /// the same row summed over the sorted unique rows, G += mean over the row of g², w -= lr·g / (sqrt(G) + eps)).
    /// Rows that were not looked up have a zero gradient, and both optimizers leave such rows unchanged, so this
    /// equals the dense update of the whole table.
    /// </summary>
    /// <param name="indices">Block-local row of every lookup (n).</param>
    /// <param name="offsets">Start of every bag in <paramref name="indices"/> (B, first is 0).</param>
    /// <param name="pooledGrad">Gradient of every bag's pooled vector (B x cols).</param>
    /// <param name="pooling">Lookups per bag when every bag has the same number (then <paramref name="offsets"/> is not read).</param>
    public static void BackwardAndUpdate(TableBlock block, Tensor indices, Tensor offsets, Tensor pooledGrad, double lr, long? pooling = null)
    {
        var n = indices.shape[0];
        if (n == 0) return;
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var perLookup = PerLookup(indices, offsets, pooledGrad, pooling);          // n x cols
        if (block.State is null)
        {
            block.Weight.index_add_(0, indices, perLookup, -lr);
            return;
        }
        var (rows, inverse, _) = torch.unique(indices, sorted: true, return_inverse: true);
        var rowGrad = torch.zeros(rows.shape[0], pooledGrad.shape[1], dtype: pooledGrad.dtype, device: indices.device)
            .index_add_(0, inverse!, perLookup, 1);                                    // unique rows x cols
        Apply(block, rows, rowGrad, lr);
    }

    /// <summary>Every lookup's gradient: its bag's row of the pooled gradient.</summary>
    private static Tensor PerLookup(Tensor indices, Tensor offsets, Tensor pooledGrad, long? pooling)
    {
        var n = indices.shape[0];
        var bags = pooledGrad.shape[0];
        if (pooling is { } l) return l == 1 ? pooledGrad : pooledGrad.repeat_interleave(l, 0, n);
        // Bag lengths from the offsets (the last bag ends at n).
        var ends = torch.cat([offsets.narrow(0, 1, bags - 1), torch.full(1, n, dtype: ScalarType.Int64, device: indices.device)], 0);
        var lengths = ends.sub_(offsets);
        return pooledGrad.repeat_interleave(lengths, 0, n);
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
        // Rows are distinct, so index_add_ writes each once.
        block.State.index_add_(0, rows, rowGrad.square().mean([1]), 1);
        var denom = block.State.index_select(0, rows).sqrt_().add_(Eps).unsqueeze(1);
        block.Weight.index_add_(0, rows, rowGrad.div_(denom), -lr);
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

/// <summary>
/// The eager stack's optimizer steps on a weight whose gradient autograd left as an uncoalesced sparse COO tensor
/// (EmbeddingBag(sparse: true)), written as the PyTorch reference runner writes them; the gradient is cleared after.
/// </summary>
public static class EagerOps
{
    /// <summary>
    /// SGD: w.add_(w.grad, alpha: -lr) (what torch.optim.SGD does with a sparse gradient: duplicates are summed by
    /// the dense += sparse kernel). Row-wise Adagrad: g = w.grad.coalesce(); idx = g.indices()[0]; v = g.values();
    /// state.index_add_(0, idx, v.pow(2).mean(1)); w.index_add_(0, idx, v / (state[idx].sqrt() + eps).unsqueeze(1), alpha: -lr).
    /// A block without a gradient (nothing looked up it) is left as it is.
    /// </summary>
    public static void Step(TableBlock block, double lr)
    {
        using var scope = torch.NewDisposeScope();
        using var _ = torch.no_grad();
        var w = block.Weight;
        var grad = w.grad;
        if (grad is null) return;
        if (block.State is not { } state) w.add_(grad, -lr);
        else
        {
            var g = Coalesce(grad);
            var idx = g.SparseIndices[0];
            var v = g.SparseValues;
            state.index_add_(0, idx, v.pow(2).mean([1]), 1);
            w.index_add_(0, idx, v / (state.index_select(0, idx).sqrt() + EmbeddingOps.Eps).unsqueeze(1), -lr);
        }
        w.grad = null;
    }

    /// <summary>
    /// Tensor.coalesce(), which TorchSharp 0.107 does not expose: called through a one-line TorchScript function
    /// (torch.jit.compile), i.e. libtorch's own coalesce. One compilation unit per thread (rank threads run at once).
    /// </summary>
    public static Tensor Coalesce(Tensor sparse)
    {
        _coalesce ??= torch.jit.compile("def coalesce(x: Tensor) -> Tensor:\n    return x.coalesce()\n");
        return _coalesce.invoke<Tensor>("coalesce", sparse);
    }

    [ThreadStatic] private static torch.jit.CompilationUnit? _coalesce;
}
