namespace Sim.Workload.Ops;

/// <summary>
/// DLRM's dot interaction over F vectors of dim d: the batched product Z = X·Xᵀ (2·F²·d FLOPs per row, counting the
/// full F x F product as the kernel computes it), reading X and writing Z. Backward: the gradients of both operands,
/// each a product of the same size. Outputs d + F(F-1)/2 (the bottom output and the strict upper triangle).
/// </summary>
internal sealed record DotInteractionOp(int Vectors, int Dim) : DenseOp
{
    public override string Kind => "dot";
    public override string Shape => $"{Vectors} vectors x {Dim}";
    public override long Parameters => 0;
    public int Outputs => Dim + Vectors * (Vectors - 1) / 2;
    public override double ActivationsPerRow => (double)Vectors * Dim + Outputs;

    public override IReadOnlyList<KernelWork> Forward(double rows, int elementBytes)
    {
        double f = Vectors, d = Dim;
        return [new("batched X·Xᵀ", rows * 2 * f * f * d, rows * (f * d + f * f) * elementBytes)];
    }

    public override IReadOnlyList<KernelWork> Backward(double rows, int elementBytes)
    {
        var fwd = Forward(rows, elementBytes)[0];
        return [fwd with { Name = "grad of X (left)" }, fwd with { Name = "grad of Xᵀ (right)" }];
    }
}

/// <summary>
/// One DCN-v2 cross layer over n inputs: x_{l+1} = x0 ⊙ (U (V x_l) + b) + x_l with V (r x n) and U (n x r) when
/// low-rank (r > 0), or x0 ⊙ (W x_l + b) + x_l with W (n x n). Parameters 2nr + n (low rank) or n² + n. Forward
/// FLOPs per row 4nr + 2n (or 2n² + 2n): the two products plus the Hadamard product and the residual add; the
/// elementwise kernel reads x0, x_l and the product and writes x_{l+1}. Backward: two products per forward product,
/// and an elementwise kernel with twice the forward FLOPs and bytes.
/// </summary>
internal sealed record CrossLayerOp(int Width, int Rank) : DenseOp
{
    public override string Kind => "dcn_cross";
    public override string Shape => Rank > 0 ? $"{Width} wide, rank {Rank}" : $"{Width} wide, full rank";
    public override long Parameters => Rank > 0 ? 2L * Width * Rank + Width : (long)Width * Width + Width;
    public override double ActivationsPerRow => Rank > 0 ? Rank + 2.0 * Width : 2.0 * Width;

    private IEnumerable<(string Name, double In, double Out)> Products() => Rank > 0
        ? [("V·x", Width, Rank), ("U·(V·x)", Rank, Width)]
        : [("W·x", Width, Width)];

    private KernelWork Elementwise(double rows, int e) => new("x0 ⊙ (·+b) + x", 2.0 * rows * Width, 4.0 * rows * Width * e);

    public override IReadOnlyList<KernelWork> Forward(double rows, int elementBytes) =>
        [.. Products().Select(p => KernelWork.Matmul(p.Name, rows, p.In, p.Out, elementBytes)), Elementwise(rows, elementBytes)];

    public override IReadOnlyList<KernelWork> Backward(double rows, int elementBytes) =>
    [
        .. Products().SelectMany(p => new[]
        {
            KernelWork.Matmul(p.Name + " grad input", rows, p.Out, p.In, elementBytes),
            KernelWork.Matmul(p.Name + " grad weights", p.In, rows, p.Out, elementBytes),
        }),
        Elementwise(rows, elementBytes).Scaled(2, "x0 ⊙ (·+b) + x grad"),
    ];
}

/// <summary>
/// The sampled-softmax head of word2vec-style models (CeWE): S pooled vectors of dim d are summed into a context
/// vector ((S-1)·d adds per row) and scored against V candidate rows (the positive and the negatives):
/// 2·V·d FLOPs per row. Backward: the sum's gradient is a broadcast copy (no FLOPs); the scores' gradients with
/// respect to the context and to the candidates are each a product of the forward's size.
/// </summary>
internal sealed record NegativeSamplingOp(int Sources, int Candidates, int Dim) : DenseOp
{
    public override string Kind => "negative_sampling";
    public override string Shape => $"{Sources} context vectors, {Candidates} candidates x {Dim}";
    public override long Parameters => 0;
    public override double ActivationsPerRow => Dim + (double)Candidates;

    public override IReadOnlyList<KernelWork> Forward(double rows, int elementBytes)
    {
        double d = Dim, v = Candidates, s = Sources;
        var scores = new KernelWork("scores", rows * 2 * v * d, rows * (v * d + d + v) * elementBytes);
        return Sources > 1 ? [new("context sum", rows * (s - 1) * d, rows * (s + 1) * d * elementBytes), scores] : [scores];
    }

    public override IReadOnlyList<KernelWork> Backward(double rows, int elementBytes)
    {
        double d = Dim, s = Sources;
        var scores = Forward(rows, elementBytes)[^1];
        List<KernelWork> k = [scores with { Name = "scores grad context" }, scores with { Name = "scores grad candidates" }];
        if (Sources > 1) k.Add(new("context sum grad", 0, rows * (1 + s) * d * elementBytes));
        return k;
    }
}
