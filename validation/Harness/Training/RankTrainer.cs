using Sim.Iterations;
using Sim.Harness.Backends;
using Sim.Sharding;
using Sim.Workload;
using TorchSharp;
using static TorchSharp.torch;
using Sim.Hardware;

namespace Sim.Harness.Training;

/// <summary>Settings shared by every rank of a run.</summary>
public sealed record TrainerSettings(long Seed, double LearningRate, EmbeddingStack Stack = EmbeddingStack.Eager)
{
    public static ScalarType TorchType(DType t) => t switch
    {
        DType.Fp32 or DType.Tf32 => ScalarType.Float32,
        DType.Fp16 => ScalarType.Float16,
        DType.Bf16 => ScalarType.BFloat16,
        DType.Int32 => ScalarType.Int32,
        DType.Int64 => ScalarType.Int64,
        _ => throw new NotSupportedException($"{t.Name()} is not supported by the harness"),
    };
}

/// <summary>
/// One rank's part of sharded DLRM training: its embedding shards, its data-parallel table replicas and its
/// replica of the dense model. <see cref="Step"/> runs one training iteration as the nine phases of
/// <see cref="Phases.All"/>, strictly in that order (Sim's analytical model assumes no overlap), timing each.
/// </summary>
public sealed class RankTrainer : IDisposable
{
    private readonly int _rank, _world;
    private readonly IRankComm _comm;
    private readonly EmbeddingLayout _layout;
    private readonly DlrmWorkload _w;
    private readonly TrainerSettings _s;
    private readonly Device _device;
    private readonly long _b, _B;
    private readonly ScalarType _indexType, _fwdType, _bwdType, _reduceType;

    private readonly IReadOnlyList<EmbeddingLayout.OwnedShard> _owned;
    private readonly TableBlock[] _shards;
    private readonly Tensor?[] _fixedOffsets;              // per owned shard: arange(0, B*L, L) for table/column-wise
    private readonly Dictionary<int, TableBlock> _dp = [];  // data-parallel table -> replica
    private readonly Dictionary<int, Tensor> _dpOffsets = [];
    private readonly Dictionary<int, Tensor> _rowBounds = []; // row-wise table -> interior shard boundaries
    private readonly Dictionary<int, Tensor> _rowStarts = []; // row-wise table -> first row of every shard
    private readonly DenseModel _dense;
    private readonly Tensor[]? _denseState;                 // Adagrad accumulators for dense parameters

    // Per-iteration state, handed from phase to phase.
    private Batch _batch = null!;
    private Tensor[] _values = [], _offsets = [];
    private Tensor? _pooled, _recv, _gradPooled, _flat, _loss;
    private Tensor[] _outs = [];                              // eager: each owned shard's pooled output, with its autograd graph
    private readonly Dictionary<int, Tensor> _dpPooled = [], _dpGrad = [];
    private readonly Dictionary<int, Tensor> _dpOut = [];     // eager: data-parallel pooled outputs, with their autograd graph
    private bool Eager => _s.Stack == EmbeddingStack.Eager;

    /// <summary>Test hook: when it returns true for (rank, phase, iteration), that phase throws (flows to rank threads).</summary>
    internal static readonly AsyncLocal<Func<int, int, int, bool>?> InjectFault = new();

    private int _iteration;

    public int Rank => _rank;
    public DenseModel Dense => _dense;
    /// <summary>This rank's table blocks: its owned shards and its data-parallel replicas, with the rows/columns each holds.</summary>
    public IEnumerable<(int Table, Shard Shard, TableBlock Block)> Blocks =>
        _owned.Select((o, i) => (o.Table, o.Shard, _shards[i]))
            .Concat(_dp.Select(kv => (kv.Key, _layout.Tables[kv.Key].Shards.First(s => s.Rank == _rank), kv.Value)));

    public RankTrainer(RankContext ctx, DlrmWorkload w, EmbeddingLayout layout, TrainerSettings s)
    {
        _rank = ctx.Rank;
        _world = ctx.World;
        _comm = ctx.Comm;
        _device = ctx.Device;
        _layout = layout;
        _w = w;
        _s = s;
        _b = layout.LocalBatch;
        _B = layout.GlobalBatch;
        _indexType = TrainerSettings.TorchType(w.Precision.Index);
        _fwdType = TrainerSettings.TorchType(w.Precision.AllToAllForward);
        _bwdType = TrainerSettings.TorchType(w.Precision.AllToAllBackward);
        _reduceType = TrainerSettings.TorchType(w.Precision.AllReduce);

        _owned = layout.Owned[_rank];
        _shards = new TableBlock[_owned.Count];
        _fixedOffsets = new Tensor?[_owned.Count];
        for (var i = 0; i < _owned.Count; i++)
        {
            var o = _owned[i];
            var info = layout.Tables[o.Table];
            _shards[i] = NewBlock(o.Table, o.Shard, sparse: true);
            if (o.Scheme != ShardingScheme.RowWise)
                _fixedOffsets[i] = torch.arange(0L, _B * info.Lookups, info.Lookups, dtype: ScalarType.Int64, device: _device);
        }
        foreach (var t in layout.DataParallelTables)
        {
            var info = layout.Tables[t];
            _dp[t] = NewBlock(t, info.Shards.First(x => x.Rank == _rank), sparse: false);
            _dpOffsets[t] = torch.arange(0L, _b * info.Lookups, info.Lookups, dtype: ScalarType.Int64, device: _device);
        }
        foreach (var info in layout.Tables.Where(t => t.Scheme == ShardingScheme.RowWise))
        {
            var starts = info.Shards.Select(x => x.RowOffset).ToArray();
            _rowStarts[info.Index] = torch.tensor(starts, dtype: ScalarType.Int64).to(_device);
            _rowBounds[info.Index] = torch.tensor(starts.Skip(1).ToArray(), dtype: ScalarType.Int64).to(_device);
        }
        _dense = new DenseModel(w, s.Seed, _device);
        if (w.Optimizer == Optimizer.RowWiseAdagrad)
            _denseState = _dense.Parameters.Select(p => torch.zeros_like(p, requires_grad: false)).ToArray();
    }

    /// <param name="sparse">Eager stack: EmbeddingBag(sparse: true) for owned shards, dense gradients for data-parallel replicas.</param>
    private TableBlock NewBlock(int table, Shard sh, bool sparse)
    {
        var t = _layout.Tables[table].Table;
        var weights = TableInit.Create(_device, _s.Seed, table, t.Rows, sh.RowOffset, sh.Rows, sh.ColumnOffset, sh.Columns);
        return new TableBlock(weights, _w.Optimizer, autograd: Eager, sparse: sparse);
    }

    /// <summary>
    /// One training iteration on this rank. The caller starts and finishes the timer's iteration; this records each
    /// phase on it. Returns the global mean loss of the iteration (a one-element tensor the caller disposes).
    /// </summary>
    public Tensor Step(Batch batch, IPhaseTimer timer)
    {
        using var scope = torch.NewDisposeScope();
        _batch = batch;
        Phase(timer, 0, InputDistribution);
        Phase(timer, 1, EmbeddingLookup);
        Phase(timer, 2, AllToAllForward);
        Phase(timer, 3, DenseForward);
        Phase(timer, 4, DenseBackward);
        Phase(timer, 5, AllToAllBackward);
        Phase(timer, 6, EmbeddingBackward);
        Phase(timer, 7, AllReduce);
        Phase(timer, 8, DenseOptimizer);
        var loss = _flat!.narrow(0, _flat.shape[0] - 1, 1).clone().MoveToOuterDisposeScope();
        _dpPooled.Clear();
        _dpGrad.Clear();
        _dpOut.Clear();
        _pooled = _recv = _gradPooled = _flat = _loss = null;
        _values = _offsets = _outs = [];
        _iteration++;
        return loss;
    }

    private void Phase(IPhaseTimer timer, int phase, Action body)
    {
        timer.Begin(phase);
        try
        {
            if (InjectFault.Value?.Invoke(_rank, phase, _iteration) == true)
                throw new InvalidOperationException($"injected fault in iteration {_iteration}");
            body();
        }
        catch (RankCancelledException) { throw; }
        catch (RankFailureException e) { throw e.Within(Phases.All[phase]); }
        catch (Exception e) { throw new RankFailureException(_rank, Phases.All[phase], $"{e.GetType().Name}: {e.Message}", e); }
        timer.End(phase);
    }

    /// <summary>
    /// Sends every lookup index to the owner of the shard it reads, with two all-to-alls: a header with the number
    /// of indices in every row-wise bucket (table- and column-wise counts are fixed), then the indices themselves.
    /// What rank s sends rank d is, for every shard d owns (plan order): table/column-wise, all b·L indices of the
    /// table; row-wise, b per-sample counts, then the indices that fall in the shard, rebased to shard rows, in
    /// sample order. The owner concatenates what it got from ranks 0..W-1: the global batch, bags in global order.
    /// </summary>
    private void InputDistribution()
    {
        var owned = _owned.Count;
        _values = new Tensor[owned];
        _offsets = new Tensor[owned];
        if (!_layout.AnySharded) return;

        // Bucketise row-wise tables: indices stably sorted by shard and rebased, and per (shard, sample) counts.
        var bucketed = new Dictionary<int, (Tensor Sorted, Tensor Counts, long[] Sizes)>();
        var sizeParts = new List<Tensor>();
        var rwTables = _layout.Tables.Where(t => t.Scheme == ShardingScheme.RowWise).ToArray();
        var partial = new List<(int Table, Tensor Sorted, Tensor Counts)>();
        foreach (var info in rwTables)
        {
            var idx = _batch.Indices[info.Index];
            var n = idx.shape[0];
            var k = info.Shards.Count;
            var bucket = torch.bucketize(idx, _rowBounds[info.Index], right: true);
            var pos = torch.arange(n, dtype: ScalarType.Int64, device: _device);
            var order = bucket.mul(n).add_(pos).argsort();
            var sortedBucket = bucket.index_select(0, order);
            var sorted = idx.index_select(0, order).sub_(_rowStarts[info.Index].index_select(0, sortedBucket));
            var sample = pos.div(info.Lookups, rounding_mode: RoundingMode.floor);
            var counts = torch.zeros(k * _b, dtype: ScalarType.Int64, device: _device)
                .index_add_(0, bucket.mul(_b).add_(sample), torch.ones(n, dtype: ScalarType.Int64, device: _device), 1)
                .view(k, _b);
            sizeParts.Add(counts.sum(1));
            partial.Add((info.Index, sorted, counts));
        }
        if (sizeParts.Count > 0)
        {
            // One device-to-host copy for all bucket sizes of all row-wise tables.
            var sizes = torch.cat(sizeParts, 0).cpu().data<long>().ToArray();
            var at = 0;
            foreach (var (table, sorted, counts) in partial)
            {
                var k = _layout.Tables[table].Shards.Count;
                bucketed[table] = (sorted, counts, sizes[at..(at + k)]);
                at += k;
            }
        }

        // What to send each rank, and the header of row-wise sizes for it.
        var pieces = new List<Tensor>();
        var sendCounts = new long[_world];
        var header = new List<long>();
        var headerCounts = new long[_world];
        for (var d = 0; d < _world; d++)
        {
            foreach (var o in _layout.Owned[d])
            {
                var info = _layout.Tables[o.Table];
                if (o.Scheme == ShardingScheme.RowWise)
                {
                    var (sorted, counts, sizes) = bucketed[o.Table];
                    long start = 0;
                    for (var j = 0; j < o.ShardIndex; j++) start += sizes[j];
                    var n = sizes[o.ShardIndex];
                    pieces.Add(counts[o.ShardIndex].to(_indexType));
                    if (n > 0) pieces.Add(sorted.narrow(0, start, n).to(_indexType));
                    sendCounts[d] += _b + n;
                    header.Add(n);
                    headerCounts[d]++;
                }
                else
                {
                    pieces.Add(_batch.Indices[o.Table].to(_indexType));
                    sendCounts[d] += _b * info.Lookups;
                }
            }
        }

        // Header: how many row-wise indices each peer sends for each of my row-wise shards.
        var myRw = _layout.RowWiseOwned[_rank];
        long[] fromPeer = new long[_world * myRw];
        if (_layout.AnyRowWise)
        {
            var hSend = torch.tensor(header.ToArray(), dtype: ScalarType.Int64).to(_device);
            var hRecv = torch.empty(_world * myRw, dtype: ScalarType.Int64, device: _device);
            _comm.AllToAllV(hSend, headerCounts, hRecv, Enumerable.Repeat((long)myRw, _world).ToArray());
            fromPeer = hRecv.cpu().data<long>().ToArray();
        }

        var recvCounts = new long[_world];
        for (var s = 0; s < _world; s++)
            foreach (var o in _owned)
                recvCounts[s] += o.Scheme == ShardingScheme.RowWise
                    ? _b + fromPeer[s * myRw + o.RowWiseSlot]
                    : _b * _layout.Tables[o.Table].Lookups;

        var send = pieces.Count > 0 ? torch.cat(pieces, 0) : torch.empty(0, dtype: _indexType, device: _device);
        var recv = torch.empty(recvCounts.Sum(), dtype: _indexType, device: _device);
        _comm.AllToAllV(send, sendCounts, recv, recvCounts);

        // Unpack: per source rank, per owned shard.
        var valueParts = Enumerable.Range(0, owned).Select(_ => new List<Tensor>()).ToArray();
        var lengthParts = Enumerable.Range(0, owned).Select(_ => new List<Tensor>()).ToArray();
        long cursor = 0;
        for (var s = 0; s < _world; s++)
        {
            for (var i = 0; i < owned; i++)
            {
                var o = _owned[i];
                if (o.Scheme == ShardingScheme.RowWise)
                {
                    var n = fromPeer[s * myRw + o.RowWiseSlot];
                    lengthParts[i].Add(recv.narrow(0, cursor, _b));
                    cursor += _b;
                    if (n > 0) valueParts[i].Add(recv.narrow(0, cursor, n));
                    cursor += n;
                }
                else
                {
                    var n = _b * _layout.Tables[o.Table].Lookups;
                    valueParts[i].Add(recv.narrow(0, cursor, n));
                    cursor += n;
                }
            }
        }
        for (var i = 0; i < owned; i++)
        {
            _values[i] = valueParts[i].Count > 0
                ? torch.cat(valueParts[i], 0).to(ScalarType.Int64)
                : torch.empty(0, dtype: ScalarType.Int64, device: _device);
            if (_owned[i].Scheme == ShardingScheme.RowWise)
            {
                var lengths = torch.cat(lengthParts[i], 0).to(ScalarType.Int64);
                _offsets[i] = lengths.cumsum(0).sub_(lengths);
            }
            else _offsets[i] = _fixedOffsets[i]!;
        }
    }

    /// <summary>
    /// Owners pool what they received (B bags per shard; a row-wise shard gives partial sums); data-parallel tables
    /// pool the local batch. Eager: with autograd (the outputs keep their graph for the backward); what is sent on,
    /// and the data-parallel leaves the dense model sees, are detached.
    /// </summary>
    private void EmbeddingLookup()
    {
        if (_owned.Count > 0)
        {
            var outs = new Tensor[_owned.Count];
            for (var i = 0; i < _owned.Count; i++)
                outs[i] = Eager ? _shards[i].LookupWithGrad(_values[i], _offsets[i]) : _shards[i].Lookup(_values[i], _offsets[i]);
            if (Eager) _outs = outs;
            using var _ = torch.no_grad();
            _pooled = outs.Length == 1 ? outs[0].detach() : torch.cat(outs, 1);   // B x C_rank
        }
        foreach (var (t, block) in _dp)
        {
            if (!Eager)
            {
                _dpPooled[t] = block.Lookup(_batch.Indices[t], _dpOffsets[t]);
                continue;
            }
            var output = block.LookupWithGrad(_batch.Indices[t], _dpOffsets[t]);
            _dpOut[t] = output;
            _dpPooled[t] = output.detach();
        }
    }

    /// <summary>Every owner sends each rank the rows of its samples: b x C_owner from every owner.</summary>
    private void AllToAllForward()
    {
        if (!_layout.AnySharded) return;
        var sendEach = _layout.PooledElementsFrom(_rank);
        var send = (_pooled ?? torch.empty(0, dtype: ScalarType.Float32, device: _device)).reshape(-1).to(_fwdType);
        var recvCounts = Enumerable.Range(0, _world).Select(s => _layout.PooledElementsFrom(s)).ToArray();
        var recv = torch.empty(recvCounts.Sum(), dtype: _fwdType, device: _device);
        _comm.AllToAllV(send, Enumerable.Repeat(sendEach, _world).ToArray(), recv, recvCounts);
        _recv = recv.to(ScalarType.Float32);
    }

    /// <summary>Assembles each table's pooled embedding from the received blocks (row-wise pieces summed, column-wise concatenated) and runs the dense model.</summary>
    private void DenseForward()
    {
        var views = new Tensor?[_world];
        if (_recv is not null)
        {
            _recv.requires_grad_(true);
            long at = 0;
            for (var s = 0; s < _world; s++)
            {
                var n = _layout.PooledElementsFrom(s);
                if (n > 0) views[s] = _recv.narrow(0, at, n).view(_b, _layout.PooledWidth[s]);
                at += n;
            }
        }
        var embeddings = new Tensor[_layout.Tables.Count];
        foreach (var info in _layout.Tables)
        {
            if (info.Scheme == ShardingScheme.DataParallel)
            {
                embeddings[info.Index] = _dpPooled[info.Index].requires_grad_(true);
                continue;
            }
            var parts = info.Shards.Select((sh, k) => views[sh.Rank]!.narrow(1, _layout.Of(info.Index, k).PooledColumn, sh.Columns)).ToArray();
            embeddings[info.Index] = info.Scheme switch
            {
                ShardingScheme.ColumnWise => torch.cat(parts, 1),
                ShardingScheme.RowWise => parts.Skip(1).Aggregate(parts[0], (acc, p) => acc.add(p)),
                _ => parts[0],
            };
        }
        var logits = _dense.Forward(_batch.Dense, embeddings);
        // Sum of this rank's per-sample losses over the global batch: summed over ranks it is the global mean.
        _loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, _batch.Labels, reduction: nn.Reduction.Sum).div(_B);
    }

    private void DenseBackward()
    {
        foreach (var p in _dense.Parameters)
            p.grad?.zero_();
        _loss!.backward();
    }

    /// <summary>The transpose of the forward all-to-all: each rank returns every owner the gradient of the b x C_owner block it got from it.</summary>
    private void AllToAllBackward()
    {
        if (!_layout.AnySharded) return;
        var counts = Enumerable.Range(0, _world).Select(s => _layout.PooledElementsFrom(s)).ToArray();
        var grad = _recv!.grad ?? torch.zeros_like(_recv);
        var send = grad.to(_bwdType);
        var each = _layout.PooledElementsFrom(_rank);
        var recv = torch.empty(each * _world, dtype: _bwdType, device: _device);
        _comm.AllToAllV(send, counts, recv, Enumerable.Repeat(each, _world).ToArray());
        if (each > 0) _gradPooled = recv.to(ScalarType.Float32).view(_B, _layout.PooledWidth[_rank]);
    }

    /// <summary>
    /// Owners backprop through their EmbeddingBags and update their shards; data-parallel tables get a dense gradient.
    /// Eager: one torch.autograd.backward over all owned outputs (each weight gets a sparse gradient), then each
    /// shard's sparse optimizer step; data-parallel outputs backprop their leaf's gradient into a dense weight gradient.
    /// Fused: the fused backward and optimizer per shard; data-parallel gradients by index_add_.
    /// </summary>
    private void EmbeddingBackward()
    {
        if (Eager)
        {
            EagerEmbeddingBackward();
            return;
        }
        for (var i = 0; i < _owned.Count; i++)
        {
            var o = _owned[i];
            var g = _gradPooled!.narrow(1, o.PooledColumn, o.Shard.Columns);
            long? pooling = o.Scheme == ShardingScheme.RowWise ? null : _layout.Tables[o.Table].Lookups;
            EmbeddingOps.BackwardAndUpdate(_shards[i], _values[i], _offsets[i], g, _s.LearningRate, pooling);
        }
        foreach (var (t, block) in _dp)
        {
            var info = _layout.Tables[t];
            var pooledGrad = _dpPooled[t].grad ?? torch.zeros_like(_dpPooled[t]);
            var idx = _batch.Indices[t];
            var bagOf = torch.arange(idx.shape[0], dtype: ScalarType.Int64, device: _device).div(info.Lookups, rounding_mode: RoundingMode.floor);
            using var _ = torch.no_grad();
            _dpGrad[t] = torch.zeros(block.Weight.shape, dtype: ScalarType.Float32, device: _device)
                .index_add_(0, idx, pooledGrad.index_select(0, bagOf), 1);
        }
    }

    private void EagerEmbeddingBackward()
    {
        if (_outs.Length > 0)
        {
            var grads = _owned.Select(o => _gradPooled!.narrow(1, o.PooledColumn, o.Shard.Columns)).ToArray();
            torch.autograd.backward(_outs, grads);
            foreach (var block in _shards) EagerOps.Step(block, _s.LearningRate);
        }
        foreach (var (t, block) in _dp)
        {
            var leafGrad = _dpPooled[t].grad ?? torch.zeros_like(_dpPooled[t]);
            torch.autograd.backward(_dpOut[t], leafGrad);
            _dpGrad[t] = block.Weight.grad!;
            block.Weight.grad = null;
        }
    }

    /// <summary>One all-reduce (sum) of every dense gradient, every data-parallel table gradient and the loss.</summary>
    private void AllReduce()
    {
        var parts = new List<Tensor>();
        foreach (var p in _dense.Parameters) parts.Add((p.grad ?? torch.zeros_like(p)).reshape(-1));
        foreach (var t in _layout.DataParallelTables) parts.Add(_dpGrad[t].reshape(-1));
        parts.Add(_loss!.detach().reshape(1));
        var flat = torch.cat(parts, 0).to(_reduceType);
        _comm.AllReduceSum(flat);
        _flat = flat.to(ScalarType.Float32);
    }

    /// <summary>SGD, or Adagrad (dense) / row-wise Adagrad (data-parallel tables), with the reduced gradients.</summary>
    private void DenseOptimizer()
    {
        using var _ = torch.no_grad();
        long at = 0;
        var ps = _dense.Parameters;
        for (var i = 0; i < ps.Count; i++)
        {
            var p = ps[i];
            var g = _flat!.narrow(0, at, p.numel()).view(p.shape);
            at += p.numel();
            DenseStep(p, g, _denseState?[i], _s.LearningRate);
        }
        foreach (var t in _layout.DataParallelTables)
        {
            var block = _dp[t];
            var g = _flat!.narrow(0, at, block.Weight.numel()).view(block.Weight.shape);
            at += block.Weight.numel();
            EmbeddingOps.ApplyDense(block, g, _s.LearningRate);
        }
    }

    /// <summary>The dense optimizer on one parameter: SGD (no state), or Adagrad with its accumulator (state += g², p -= lr·g / (sqrt(state) + eps)). Call under no_grad.</summary>
    public static void DenseStep(Tensor p, Tensor g, Tensor? state, double lr)
    {
        if (state is null) p.add_(g, -lr);
        else
        {
            state.add_(g.square());
            p.sub_(g.div(state.sqrt().add(EmbeddingOps.Eps)).mul_(lr));
        }
    }

    public void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
        foreach (var o in _fixedOffsets) o?.Dispose();
        foreach (var b in _dp.Values) b.Dispose();
        foreach (var o in _dpOffsets.Values) o.Dispose();
        foreach (var t in _rowBounds.Values.Concat(_rowStarts.Values)) t.Dispose();
        _dense.Dispose();
        if (_denseState is not null) foreach (var s in _denseState) s.Dispose();
    }
}
