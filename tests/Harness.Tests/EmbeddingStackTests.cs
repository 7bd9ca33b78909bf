using Sim.Harness.Training;
using Sim.Workload;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.Harness.Tests;

/// <summary>
/// One table, one step, checked against an update computed by hand (plain loops over arrays): the eager stack
/// (EmbeddingBag(sparse: true), autograd, sparse optimizer step) and the fused backward, with row 2 looked up three
/// times (twice in one bag), row 4 never, and bags of uneven length (one empty).
/// </summary>
public class EmbeddingStackTests
{
    private const int Rows = 6, Dim = 3;
    private const float Lr = 0.1f;
    private static readonly long[] Indices = [2, 0, 2, 5, 1, 2, 3];
    private static readonly long[] Offsets = [0, 3, 3, 5];           // bags: {2,0,2}, {}, {5,1}, {2,3}

    private static float[,] Initial()
    {
        var w = new float[Rows, Dim];
        for (var r = 0; r < Rows; r++)
            for (var c = 0; c < Dim; c++) w[r, c] = 0.1f * r - 0.05f * c + 0.3f;
        return w;
    }

    private static float[,] PooledGrad()
    {
        var g = new float[Offsets.Length, Dim];
        for (var b = 0; b < Offsets.Length; b++)
            for (var c = 0; c < Dim; c++) g[b, c] = (b + 1) * 0.5f - c * 0.25f;
        return g;
    }

    /// <summary>The gradient of the whole table by hand: every lookup adds its bag's pooled gradient to its row.</summary>
    private static double[,] TableGrad()
    {
        var g = PooledGrad();
        var grad = new double[Rows, Dim];
        for (var b = 0; b < Offsets.Length; b++)
        {
            var end = b + 1 < Offsets.Length ? Offsets[b + 1] : Indices.Length;
            for (var i = Offsets[b]; i < end; i++)
                for (var c = 0; c < Dim; c++) grad[Indices[i], c] += g[b, c];
        }
        return grad;
    }

    private static double[,] Expected(Optimizer optimizer, int steps)
    {
        var w = Initial();
        var grad = TableGrad();
        var state = new double[Rows];
        var result = new double[Rows, Dim];
        for (var r = 0; r < Rows; r++)
            for (var c = 0; c < Dim; c++) result[r, c] = w[r, c];
        for (var s = 0; s < steps; s++)
            for (var r = 0; r < Rows; r++)
            {
                if (optimizer == Optimizer.RowWiseAdagrad)
                {
                    double m = 0;
                    for (var c = 0; c < Dim; c++) m += grad[r, c] * grad[r, c];
                    state[r] += m / Dim;
                }
                for (var c = 0; c < Dim; c++)
                    result[r, c] -= optimizer == Optimizer.Sgd ? Lr * grad[r, c] : Lr * grad[r, c] / (Math.Sqrt(state[r]) + EmbeddingOps.Eps);
            }
        return result;
    }

    private static TableBlock Block(Optimizer optimizer, bool eager) =>
        new(torch.tensor(Initial()), optimizer, autograd: eager, sparse: eager);

    private static void Step(TableBlock block, bool eager)
    {
        using var scope = torch.NewDisposeScope();
        var idx = torch.tensor(Indices);
        var off = torch.tensor(Offsets);
        var g = torch.tensor(PooledGrad());
        if (eager)
        {
            var output = block.LookupWithGrad(idx, off);
            torch.autograd.backward([output], [g]);
            Assert.True(block.Weight.grad!.is_sparse, "EmbeddingBag(sparse: true) gives a sparse weight gradient");
            EagerOps.Step(block, Lr);
            Assert.Null(block.Weight.grad);
        }
        else EmbeddingOps.BackwardAndUpdate(block, idx, off, g, Lr);
    }

    [Theory]
    [InlineData("sgd", true)]
    [InlineData("sgd", false)]
    [InlineData("rowwise_adagrad", true)]
    [InlineData("rowwise_adagrad", false)]
    public void OneTableStepEqualsTheHandComputedUpdate(string optimizer, bool eager)
    {
        var opt = Optimizers.Words[optimizer];
        using var block = Block(opt, eager);
        for (var s = 1; s <= 2; s++)
        {
            Step(block, eager);
            var expected = Expected(opt, s);
            var actual = block.Weight.detach().data<float>().ToArray();
            for (var r = 0; r < Rows; r++)
                for (var c = 0; c < Dim; c++)
                    Assert.True(Math.Abs(actual[r * Dim + c] - expected[r, c]) <= 1e-6,
                        $"{optimizer} eager={eager} step {s}: w[{r},{c}] = {actual[r * Dim + c]}, by hand {expected[r, c]}");
        }
        // Row 4 was never looked up: unchanged by either optimizer.
        Assert.Equal(Initial()[4, 1], block.Weight.detach()[4, 1].item<float>());
    }

    [Fact]
    public void FusedBackwardWithFixedPoolingEqualsOffsets()
    {
        // Bags of 2: the pooling shortcut (no offsets read) must equal the offsets path.
        long[] idx = [3, 1, 3, 3, 0, 5];
        foreach (var opt in new[] { Optimizer.Sgd, Optimizer.RowWiseAdagrad })
        {
            using var a = Block(opt, false);
            using var b = Block(opt, false);
            using var i = torch.tensor(idx);
            using var off = torch.tensor(new long[] { 0, 2, 4 });
            using var g = torch.randn(3, Dim, generator: new Generator(5));
            EmbeddingOps.BackwardAndUpdate(a, i, off, g, Lr);
            EmbeddingOps.BackwardAndUpdate(b, i, off, g, Lr, pooling: 2);
            Assert.True(a.Weight.detach().allclose(b.Weight.detach(), rtol: 1e-6, atol: 1e-7), $"{opt}");
        }
    }
}
