namespace Sim.Workload.Ops;

/// <summary>
/// TBSM's spherical projection of the k history vectors and the candidate (V = k + 1 vectors of dim m): square,
/// sum and scale, 3·V·m FLOPs per row, reading and writing each vector; backward twice that.
/// </summary>
internal sealed record TslNormalizeOp(int Vectors, int Dim) : DenseOp
{
    public override string Kind => "tsl_normalize";
    public override string Shape => $"{Vectors} vectors x {Dim}";
    public override long Parameters => 0;
    public override double ActivationsPerRow => (double)Vectors * Dim;

    public override IReadOnlyList<KernelWork> Forward(double rows, int elementBytes) =>
        [new("l2 normalise", rows * 3.0 * Vectors * Dim, rows * 2.0 * Vectors * Dim * elementBytes)];

    public override IReadOnlyList<KernelWork> Backward(double rows, int elementBytes) =>
        [Forward(rows, elementBytes)[0].Scaled(2, "l2 normalise grad")];
}

/// <summary>
/// One TSL head's attention arithmetic over a history of k vectors of dim m (its MLPs are separate linear
/// operators). The candidate w is mapped by the head's m x m matrix A: x = Aᵀ(A w) for the positive semi-definite
/// inner product (two m x m products, 4m² FLOPs per row), x = A w for the indefinite one (2m²), x = w for the dot
/// product; the scores a = H x (2km FLOPs) go through the attention MLP, and the context is c = y·H (2km FLOPs).
/// Parameters m² (0 for dot). Backward: two products of the forward's size per product.
/// </summary>
internal sealed record TslAttentionOp(int History, int Dim, TslInner Inner) : DenseOp
{
    public override string Kind => "tsl_attention";
    public override string Shape => $"history {History}, m {Dim}, {Inner.Name()} inner product";
    public override long Parameters => Inner == TslInner.Dot ? 0 : (long)Dim * Dim;
    public override double ActivationsPerRow => 2.0 * History + 3.0 * Dim;

    private IEnumerable<KernelWork> Transform(double rows, int e) => Inner switch
    {
        TslInner.Psd => [KernelWork.Matmul("A·w", rows, Dim, Dim, e), KernelWork.Matmul("Aᵀ·(A·w)", rows, Dim, Dim, e)],
        TslInner.Indefinite => [KernelWork.Matmul("A·w", rows, Dim, Dim, e)],
        _ => [],
    };

    private IEnumerable<KernelWork> Products(double rows, int e)
    {
        double k = History, m = Dim;
        yield return new("scores H·x", rows * 2 * k * m, rows * (k * m + m + k) * e);
        yield return new("context y·H", rows * 2 * k * m, rows * (k + k * m + m) * e);
    }

    public override IReadOnlyList<KernelWork> Forward(double rows, int elementBytes) =>
        [.. Transform(rows, elementBytes), .. Products(rows, elementBytes)];

    public override IReadOnlyList<KernelWork> Backward(double rows, int elementBytes) =>
    [
        .. Transform(rows, elementBytes).SelectMany(p => new[] { p with { Name = p.Name + " grad input" }, p with { Name = p.Name + " grad A" } }),
        .. Products(rows, elementBytes).SelectMany(p => new[] { p with { Name = p.Name + " grad left" }, p with { Name = p.Name + " grad right" } }),
    ];
}
