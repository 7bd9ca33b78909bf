namespace Sim.Workload.Ops;

/// <summary>
/// A 1-D convolution over a sequence of <see cref="Length"/> steps with <see cref="Channels"/> input channels,
/// <see cref="Filters"/> output channels and a window of <see cref="Width"/> steps (stride 1, no padding: Lo = L - w + 1
/// output steps), then bias and ReLU. Parameters F·C·w + F. Forward: an implicit GEMM of 2·Lo·C·w·F FLOPs per row
/// that reads the input sequence and the filters and writes the output; an epilogue that reads and writes the output.
/// Backward: the input-gradient and filter-gradient convolutions (each the forward's size) and the epilogue's gradient.
/// </summary>
internal sealed record Conv1dOp(int Channels, int Filters, int Width, int Length) : DenseOp
{
    public int OutputLength => Length - Width + 1;
    public override string Kind => "conv1d";
    public override string Shape => $"{Channels} → {Filters} channels, width {Width}, {Length} → {OutputLength} steps";
    public override long Parameters => (long)Filters * Channels * Width + Filters;
    public override double ActivationsPerRow => (double)OutputLength * Filters;

    private KernelWork Conv(string name, double rows, int e)
    {
        double lo = OutputLength, cw = (double)Channels * Width, f = Filters;
        return new(name, 2 * rows * lo * cw * f, (rows * Length * Channels + cw * f + rows * lo * f) * e);
    }

    public override IReadOnlyList<KernelWork> Forward(double rows, int elementBytes) =>
        [Conv("conv", rows, elementBytes), new("bias+relu", 0, 2.0 * rows * OutputLength * Filters * elementBytes)];

    public override IReadOnlyList<KernelWork> Backward(double rows, int elementBytes) =>
    [
        Conv("conv grad input", rows, elementBytes),
        Conv("conv grad filters", rows, elementBytes),
        new("bias+relu grad", 0, 3.0 * rows * OutputLength * Filters * elementBytes),
    ];
}

/// <summary>Max over time of a sequence of <see cref="Length"/> steps x <see cref="Channels"/> (a convolutional encoder's last step): one compare per element; backward scatters the gradient to the maxima.</summary>
internal sealed record TemporalMaxPoolOp(int Length, int Channels) : DenseOp
{
    public override string Kind => "max_over_time";
    public override string Shape => $"{Length} steps x {Channels} → {Channels}";
    public override long Parameters => 0;
    public override double ActivationsPerRow => Channels;

    public override IReadOnlyList<KernelWork> Forward(double rows, int elementBytes) =>
        [new("max over time", rows * Length * Channels, rows * ((double)Length * Channels + Channels) * elementBytes)];

    public override IReadOnlyList<KernelWork> Backward(double rows, int elementBytes) =>
        [new("max over time grad", 0, rows * ((double)Length * Channels + Channels) * elementBytes)];
}

/// <summary>
/// One unidirectional LSTM layer, input I, hidden H, over T steps, in cuDNN's schedule: one GEMM projects the inputs
/// of all steps (2·T·I·4H FLOPs per row), then T sequential step kernels each multiply h_{t-1} by the recurrent
/// weights (2·H·4H) and update the cell (c = f⊙c + i⊙g, h = o⊙tanh c: 4H FLOPs; gate activations uncounted).
/// Forward FLOPs per row T·(8H(I + H) + 4H). Parameters 4H(I + H) + 8H (PyTorch keeps two bias vectors). A step
/// reads h, c, the pre-gates, the recurrent weights and biases and writes h, c and the gates kept for backward:
/// (12·rows·H + 4H² + 8H) elements. Backward: the projection's two gradient GEMMs, and T step kernels with twice the
/// forward step's FLOPs and bytes.
/// </summary>
internal sealed record LstmOp(int Input, int Hidden, int Steps) : DenseOp
{
    public override string Kind => "lstm";
    public override string Shape => $"{Input} → {Hidden} hidden, {Steps} steps";
    public override long Parameters => 4L * Hidden * (Input + Hidden) + 8L * Hidden;
    public override double ActivationsPerRow => 6.0 * Steps * Hidden;

    private KernelWork Recurrence(double rows, int e)
    {
        double h = Hidden, t = Steps;
        return new("recurrence", t * (2 * rows * h * 4 * h + 4 * rows * h), t * (12 * rows * h + 4 * h * h + 8 * h) * e, Steps);
    }

    public override IReadOnlyList<KernelWork> Forward(double rows, int elementBytes) =>
    [
        KernelWork.Matmul("input projection", rows * Steps, Input, 4.0 * Hidden, elementBytes),
        Recurrence(rows, elementBytes),
    ];

    public override IReadOnlyList<KernelWork> Backward(double rows, int elementBytes) =>
    [
        KernelWork.Matmul("input projection grad input", rows * Steps, 4.0 * Hidden, Input, elementBytes),
        KernelWork.Matmul("input projection grad weights", Input, rows * Steps, 4.0 * Hidden, elementBytes),
        Recurrence(rows, elementBytes).Scaled(2, "recurrence grad"),
    ];
}
