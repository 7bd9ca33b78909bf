using Sim.Workload;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.Harness.Training;

/// <summary>
/// The dense part of a DLRM, replicated on every rank: bottom MLP (Linear + ReLU on every layer), dot interaction
/// (Z = X·Xᵀ over [bottom output, T pooled embeddings], strict upper triangle, concatenated with the bottom output),
/// top MLP (Linear + ReLU on every layer but the last), one logit per sample. Weights are drawn on the CPU from a
/// generator seeded by (seed, layer), as DLRM initialises them (weight N(0, sqrt(2/(in+out))), bias N(0, sqrt(1/out))),
/// so every rank and the unsharded reference start identical.
/// </summary>
public sealed class DenseModel : IDisposable
{
    public IReadOnlyList<Tensor> Parameters => _params;
    public int InteractionVectors { get; }

    private readonly List<Tensor> _params = [];
    private readonly int _bottomLayers, _topLayers;
    private readonly Tensor _triu; // flat indices i*F+j, i<j

    public DenseModel(DlrmWorkload w, long seed, Device device)
    {
        var layer = 0;
        foreach (var l in w.BottomLayers) AddLayer(l, seed, layer++, device);
        foreach (var l in w.TopLayers) AddLayer(l, seed, layer++, device);
        _bottomLayers = w.BottomLayers.Count;
        _topLayers = w.TopLayers.Count;
        InteractionVectors = w.InteractionVectors;
        var f = InteractionVectors;
        using var ij = torch.triu_indices(f, f, 1, device: device);
        _triu = ij[0].mul(f).add(ij[1]).DetachFromDisposeScope();
    }

    private void AddLayer(DenseLayer l, long seed, int index, Device device)
    {
        using var gen = new Generator(Seeds.Derive(seed, Seeds.DenseStream, index), CPU);
        _params.Add(Draw([l.Out, l.In], Math.Sqrt(2.0 / (l.In + l.Out)), gen, device));
        _params.Add(Draw([l.Out], Math.Sqrt(1.0 / l.Out), gen, device));
    }

    private static Tensor Draw(long[] shape, double std, Generator gen, Device device)
    {
        var cpu = torch.randn(shape, dtype: ScalarType.Float32, generator: gen);
        using (torch.no_grad()) cpu.mul_(std);
        var t = cpu.to(device);
        if (!ReferenceEquals(t, cpu)) cpu.Dispose();
        return t.requires_grad_(true).DetachFromDisposeScope();
    }

    /// <summary>Logits (b) from dense features (b x F) and one pooled embedding (b x d) per table, in workload order.</summary>
    public Tensor Forward(Tensor dense, IReadOnlyList<Tensor> embeddings)
    {
        var x = dense;
        for (var i = 0; i < _bottomLayers; i++)
            x = torch.nn.functional.linear(x, _params[2 * i], _params[2 * i + 1]).relu();
        var b = x.shape[0];
        var vectors = new List<Tensor>(embeddings.Count + 1) { x };
        vectors.AddRange(embeddings);
        var xs = torch.stack(vectors, 1);                           // b x F x d
        var z = xs.bmm(xs.transpose(1, 2)).reshape(b, -1);          // b x F*F
        var y = torch.cat([x, z.index_select(1, _triu)], 1);        // b x (d + F(F-1)/2)
        for (var i = 0; i < _topLayers; i++)
        {
            var k = _bottomLayers + i;
            y = torch.nn.functional.linear(y, _params[2 * k], _params[2 * k + 1]);
            if (i < _topLayers - 1) y = y.relu();
        }
        return y.reshape(b);
    }

    public void Dispose()
    {
        foreach (var p in _params) p.Dispose();
        _triu.Dispose();
    }
}
