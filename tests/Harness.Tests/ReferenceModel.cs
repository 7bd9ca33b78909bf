using Sim.Harness.Training;
using Sim.Workload;
using TorchSharp;
using static TorchSharp.torch;

namespace Sim.Harness.Tests;

/// <summary>
/// The unsharded oracle: one rank, whole tables, the global batch (ranks 0..W-1's local batches concatenated),
/// pooling written out as a gather and a sum (not EmbeddingBag), gradients from autograd over the whole tables,
/// and the optimizers applied densely to every row. It shares only the initial values (TableInit, DenseModel)
/// and the data (BatchGenerator) with the harness.
/// </summary>
internal sealed class ReferenceModel : IDisposable
{
    public Tensor[] Tables { get; }
    public DenseModel Dense { get; }
    public List<double> Losses { get; } = [];

    private readonly DlrmWorkload _w;
    private readonly int _world;
    private readonly long _seed;
    private readonly double _lr;
    private readonly Tensor[]? _tableState;
    private readonly Tensor[]? _denseState;

    public ReferenceModel(DlrmWorkload w, int world, long seed, double lr)
    {
        _w = w; _world = world; _seed = seed; _lr = lr;
        Tables = w.Tables.Select((t, i) => TableInit.Create(CPU, seed, i, t.Rows, 0, t.Rows, 0, t.Dim)).ToArray();
        Dense = new DenseModel(w, seed, CPU);
        if (w.Optimizer == Optimizer.RowWiseAdagrad)
        {
            _tableState = w.Tables.Select(t => torch.zeros(t.Rows, dtype: ScalarType.Float32)).ToArray();
            _denseState = Dense.Parameters.Select(p => torch.zeros_like(p, requires_grad: false)).ToArray();
        }
    }

    public void Step(int iteration)
    {
        using var scope = torch.NewDisposeScope();
        var b = _w.GlobalBatchSize / _world;
        var batches = Enumerable.Range(0, _world).Select(r => BatchGenerator.Generate(_w, _seed, iteration, r, b, CPU)).ToArray();
        var dense = torch.cat(batches.Select(x => x.Dense).ToArray(), 0);
        var labels = torch.cat(batches.Select(x => x.Labels).ToArray(), 0);
        var leaves = Tables.Select(t => t.clone().requires_grad_(true)).ToArray();
        var pooled = new Tensor[Tables.Length];
        for (var t = 0; t < Tables.Length; t++)
        {
            var idx = torch.cat(batches.Select(x => x.Indices[t]).ToArray(), 0);
            var l = BatchGenerator.Lookups(_w.Tables[t]);
            pooled[t] = leaves[t].index_select(0, idx).view(_w.GlobalBatchSize, l, -1).sum(1);
        }
        var loss = torch.nn.functional.binary_cross_entropy_with_logits(Dense.Forward(dense, pooled), labels);
        loss.backward();
        Losses.Add(loss.item<float>());

        using var _ = torch.no_grad();
        for (var t = 0; t < Tables.Length; t++)
        {
            var g = leaves[t].grad!;
            if (_tableState is null) Tables[t].sub_(g.mul(_lr));
            else
            {
                _tableState[t].add_(g.square().mean([1]));
                Tables[t].sub_(g.div(_tableState[t].sqrt().add(EmbeddingOps.Eps).unsqueeze(1)).mul(_lr));
            }
        }
        for (var i = 0; i < Dense.Parameters.Count; i++)
        {
            var p = Dense.Parameters[i];
            var g = p.grad!;
            if (_denseState is null) p.sub_(g.mul(_lr));
            else
            {
                _denseState[i].add_(g.square());
                p.sub_(g.div(_denseState[i].sqrt().add(EmbeddingOps.Eps)).mul(_lr));
            }
            g.zero_();
        }
        foreach (var x in batches) x.Dispose();
    }

    public void Dispose()
    {
        foreach (var t in Tables) t.Dispose();
        Dense.Dispose();
        if (_tableState is not null) foreach (var t in _tableState) t.Dispose();
        if (_denseState is not null) foreach (var t in _denseState) t.Dispose();
    }
}
