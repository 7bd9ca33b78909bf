namespace Sim.Workload.Ops;

/// <summary>
/// The work of one kernel for a batch: FLOPs, bytes moved through HBM, and how many launches it needs one after
/// another (an LSTM's recurrence launches once per time step). Costs turn it into seconds by roofline.
/// </summary>
/// <param name="M">For a matrix product, the rows of its result (0 otherwise); K the inner and N the result's columns.</param>
public readonly record struct KernelWork(string Name, double Flops, double Bytes, int Launches = 1, double M = 0, double K = 0, double N = 0)
{
    /// <summary>An (m x k) by (k x n) product: 2mkn FLOPs; both operands read and the result written once.</summary>
    public static KernelWork Matmul(string name, double m, double k, double n, int elementBytes) =>
        new(name, 2 * m * k * n, (m * k + k * n + m * n) * elementBytes, 1, m, k, n);

    /// <summary>The same kernel with FLOPs and bytes scaled (launches unchanged).</summary>
    public KernelWork Scaled(double factor, string? name = null) => new(name ?? Name, Flops * factor, Bytes * factor, Launches);
}

/// <summary>Where an operator sits in the model, in data-flow order.</summary>
public enum DenseStage { Bottom, SequenceEncoder, Interaction, Top, Tsl, Head }

/// <summary>
/// One dense operator of a model with per-operator FLOP and byte accounting, forward and backward, for a batch of
/// rows (a row is one sample, or one sample's time step for operators that run per step).
/// </summary>
/// <remarks>
/// Conventions: a product's multiply-add is two FLOPs; elementwise arithmetic that defines a layer (DCN's Hadamard
/// product and residual, the LSTM cell update, pooling) counts one FLOP per operation; bias adds and activation
/// functions count no FLOPs (the DLRM/MLPerf convention for MLPs) but their bytes are counted. A product's backward
/// pass is two products of the same size (gradient of the input, gradient of the weights or of the other operand),
/// so backward FLOPs are twice the forward FLOPs for products. Bytes are compulsory traffic: inputs and weights read,
/// outputs written, once per kernel. FLOPs grow linearly with the batch; bytes do not (weights are read once).
/// </remarks>
public abstract record DenseOp
{
    /// <summary>Short kind, e.g. "linear", "dot", "dcn_cross".</summary>
    public abstract string Kind { get; }

    /// <summary>A human description of the shape, e.g. "13 → 512".</summary>
    public abstract string Shape { get; }

    /// <summary>Trainable parameters (weights and biases).</summary>
    public abstract long Parameters { get; }

    /// <summary>Elements one row keeps for the backward pass (outputs and saved intermediates).</summary>
    public abstract double ActivationsPerRow { get; }

    public abstract IReadOnlyList<KernelWork> Forward(double rows, int elementBytes);

    public abstract IReadOnlyList<KernelWork> Backward(double rows, int elementBytes);

    /// <summary>Forward FLOPs for one row.</summary>
    public double ForwardFlopsPerRow => Forward(1, 4).Sum(k => k.Flops);

    /// <summary>Backward FLOPs for one row.</summary>
    public double BackwardFlopsPerRow => Backward(1, 4).Sum(k => k.Flops);

    private protected static string F(double v) => v.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>An operator placed in a model: its stage, a name, and how many rows it runs per sample.</summary>
public sealed record StackedOp(string Name, DenseStage Stage, DenseOp Op, double RowsPerSample = 1)
{
    public double ForwardFlopsPerSample => Op.ForwardFlopsPerRow * RowsPerSample;
    public double BackwardFlopsPerSample => Op.BackwardFlopsPerRow * RowsPerSample;
    public double ActivationsPerSample => Op.ActivationsPerRow * RowsPerSample;
}
