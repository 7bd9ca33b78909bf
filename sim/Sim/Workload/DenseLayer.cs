namespace Sim.Workload;

/// <summary>A fully connected layer (weights in x out plus bias).</summary>
public readonly record struct DenseLayer(int In, int Out)
{
    public long Parameters => (long)In * Out + Out;
    /// <summary>Forward multiply-adds counted as two FLOPs each, per sample.</summary>
    public double ForwardFlopsPerSample => 2.0 * In * Out;
}
