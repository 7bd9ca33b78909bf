namespace Sim.Workload.Ops;

/// <summary>
/// A fully connected layer y = W x + b (then an activation): forward one (rows x in)·(in x out) GEMM and a bias +
/// activation epilogue that reads and writes the fp32 output; backward the input-gradient and weight-gradient GEMMs
/// and an epilogue that reads the output gradient and the saved output and writes the pre-activation gradient.
/// </summary>
internal sealed record LinearOp(DenseLayer Layer) : DenseOp
{
    public override string Kind => "linear";
    public override string Shape => $"{Layer.In} → {Layer.Out}";
    public override long Parameters => Layer.Parameters;
    public override double ActivationsPerRow => Layer.Out;

    public override IReadOnlyList<KernelWork> Forward(double rows, int elementBytes) =>
    [
        KernelWork.Matmul("gemm", rows, Layer.In, Layer.Out, elementBytes),
        new("bias+activation", 0, 2.0 * rows * Layer.Out * 4),
    ];

    public override IReadOnlyList<KernelWork> Backward(double rows, int elementBytes) =>
    [
        KernelWork.Matmul("gemm grad input", rows, Layer.Out, Layer.In, elementBytes),
        KernelWork.Matmul("gemm grad weights", Layer.In, rows, Layer.Out, elementBytes),
        new("bias+activation grad", 0, 3.0 * rows * Layer.Out * 4),
    ];
}
