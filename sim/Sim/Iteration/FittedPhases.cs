using Sim.Accounting;
using Sim.Cost;
using Sim.Cost.Operators;
using Sim.Sharding;
using Sim.Topology;
using Sim.Workload;
using Sim.Workload.Ops;
using Sim.Hardware;
using Sim.Collectives;

namespace Sim.Iterations;

/// <summary>
/// The phases of one step priced by a fitted stack's operator models, per rank, with the host as a stream of its own:
/// the host issues every operator in the step's order (paying each one's issue time) while the device runs them; a
/// kernel cannot start before it is issued, and a synchronising call (a sparse coalesce, a host read of bucket sizes)
/// makes the host wait for the device. A phase lasts from the device reaching its start to the device finishing its
/// last kernel, as CUDA events measure it: an eager step whose GPU idles while Python issues kernels is host-bound,
/// and is predicted so. Framework work around the collectives (casts, packing, the gradient concatenation before the
/// all-reduce) is priced here too, as the kernels and issue costs it is.
/// </summary>
internal sealed class FittedPhases
{
    /// <summary>[rank][phase] seconds of the compute phases (collective phases: the framework work around the collective).</summary>
    public required double[][] Seconds { get; init; }

    public double[] Of(string phase) => Seconds.Select(r => r[Phases.IndexOf(phase)]).ToArray();
    public double Max(string phase) => Of(phase).Max();

    /// <summary>
    /// The largest share of a rank's step its host spends issuing (Python and launch time per call): near 1 the GPU
    /// waits on the host, where the per-call issue times, fitted on one machine, decide the answer.
    /// </summary>
    public double HostShare { get; init; }

    // Kernels a step issues around its operators, counted from the harness's and the reference runner's code: around an
    // all-to-all a concatenation and two casts; after the dense model, the loss (a few elementwise kernels) and its backward.
    private const double KernelsAroundAllToAll = 3, KernelsOfLoss = 4;
    private const string A2a = Nccl.CollectiveOps.AllToAllName;

    /// <summary>Host and device clocks of one rank through a step.</summary>
    private struct Clock
    {
        public double Host, Device, Issuing;

        public void Run(StepOp op)
        {
            var issuedFrom = Host;
            Host += op.Host;
            Issuing += op.Host;
            // Kernels start as they are issued and end no earlier than the last one is issued.
            Device = Math.Max(Math.Max(Device, issuedFrom) + op.Device, Host);
            if (op.Sync) Host = Device;
        }

        /// <summary>A collective of this many seconds on the device (issued like a kernel).</summary>
        public void Collective(double seconds) => Device = Math.Max(Device, Host) + seconds;

        public readonly double EventTime => Math.Max(Device, Host);
    }

    public static FittedPhases Of(OperatorCosts ops, Cluster c, DlrmWorkload w, ShardingPlan plan, EmbeddingWork emb, CostParameters p)
    {
        var world = c.WorldSize;
        double b = emb.LocalBatch;
        var dt = w.Precision.Compute;
        var a2aIn = CollectiveCost.AllToAllPerRank(c, p, emb.InputDistribution);
        var a2aFwd = CollectiveCost.AllToAllPerRank(c, p, emb.PooledBytes(w.Precision.AllToAllForward.Bytes()));
        var a2aBwd = CollectiveCost.AllToAllPerRank(c, p, emb.GradientBytes(w.Precision.AllToAllBackward.Bytes()));
        var dpParams = emb.DataParallelParameters;
        var allReduce = world > 1 ? CollectiveCost.AllReduceSeconds(c, p, (w.DenseParameters + dpParams) * w.Precision.AllReduce.Bytes()) : 0;
        var tensors = ParameterTensors(w);
        var dpTables = plan.Tables.Where(t => t.Scheme == ShardingScheme.DataParallel).Select(t => (double)t.Table.Parameters).ToList();
        var sentTables = plan.Tables.Count(t => t.Scheme != ShardingScheme.DataParallel);
        var rowSplit = plan.Tables.Where(t => t.Scheme.SplitsRows()).Select(t => b * t.Table.LookupsPerSample).ToList();
        var pooledBytes = b * emb.SlicedWidth * 4;

        var seconds = new double[world][];
        double hostShare = 0;
        for (var r = 0; r < world; r++)
        {
            var t = new Clock();
            var phase = new double[Phases.All.Count];
            var i = 0;
            void Phase(Action body)
            {
                var start = t.EventTime;
                body();
                phase[i++] = t.EventTime - start;
            }
            var rank = r;
            Phase(() =>
            {
                t.Run(ops.InputPack(sentTables, b * plan.Tables.Where(x => x.Scheme != ShardingScheme.DataParallel).Sum(x => x.Table.LookupsPerSample)));
                foreach (var lookups in rowSplit) t.Run(ops.Bucketize(lookups));
                // Row-split tables need a first exchange of bucket sizes, read back on the host before the indices go.
                if (rowSplit.Count > 0) { t.Run(ops.CollectiveCall(A2a)); t.Run(new StepOp(0, 0, Sync: true)); }
                t.Run(ops.Issue(KernelsAroundAllToAll));
                t.Run(ops.CollectiveCall(A2a));
                t.Collective(a2aIn[rank]);
            });
            Phase(() => { foreach (var s in emb.Shards[rank]) t.Run(ops.EmbeddingForward(s)); });
            Phase(() => { t.Run(ops.Issue(KernelsAroundAllToAll)); t.Run(ops.Stream(2 * pooledBytes)); t.Run(ops.CollectiveCall(A2a)); t.Collective(a2aFwd[rank]); });
            Phase(() => { foreach (var o in w.DenseOperators) Dense(ref t, ops, o, b, dt, forward: true); t.Run(ops.Issue(KernelsOfLoss)); });
            Phase(() =>
            {
                t.Run(ops.Issue(tensors.Count + KernelsOfLoss));
                foreach (var o in w.DenseOperators.Reverse()) Dense(ref t, ops, o, b, dt, forward: false);
                t.Run(new StepOp(ops.BackwardCallSeconds, 0));
                t.Run(ops.SliceAssembly(emb.Slices, CostTerms.SliceBytes(emb.Slices, b * emb.SlicedWidth * 4)));
            });
            Phase(() => { t.Run(ops.Issue(KernelsAroundAllToAll)); t.Run(ops.Stream(2 * pooledBytes)); t.Run(ops.CollectiveCall(A2a)); t.Collective(a2aBwd[rank]); });
            Phase(() => { foreach (var s in emb.Shards[rank]) t.Run(ops.EmbeddingBackward(s, w.Optimizer)); });
            Phase(() =>
            {
                t.Run(ops.GradientPack(tensors.Count + dpTables.Count + 1, w.DenseParameters + dpParams));
                t.Run(ops.CollectiveCall(Nccl.CollectiveOps.AllReduceName));
                t.Collective(allReduce);
            });
            Phase(() =>
            {
                t.Run(ops.DenseOptimizer(tensors.Sum() + dpTables.Sum(), tensors.Count + dpTables.Count, w.Optimizer));
            });
            seconds[r] = phase;
            if (t.EventTime > 0) hostShare = Math.Max(hostShare, t.Issuing / t.EventTime);
        }
        // The collectives themselves are the graph's own tasks: leave only the framework work around them here.
        for (var r = 0; r < world; r++)
        {
            seconds[r][0] = Math.Max(0, seconds[r][0] - a2aIn[r]);
            seconds[r][2] = Math.Max(0, seconds[r][2] - a2aFwd[r]);
            seconds[r][5] = Math.Max(0, seconds[r][5] - a2aBwd[r]);
            seconds[r][7] = Math.Max(0, seconds[r][7] - allReduce);
        }
        return new FittedPhases { Seconds = seconds, HostShare = hostShare };
    }

    /// <summary>One dense operator: from its measured shape grid where there is one, else kernel by kernel.</summary>
    private static void Dense(ref Clock t, OperatorCosts ops, StackedOp o, double b, DType dt, bool forward)
    {
        var rows = b * o.RowsPerSample;
        StepOp? measured = o.Op switch
        {
            LinearOp l => ops.Shape(forward ? OperatorNames.LinearForward : OperatorNames.LinearBackward, rows, l.Layer.In, l.Layer.Out),
            DotInteractionOp d => ops.Shape(forward ? OperatorNames.InteractionForward : OperatorNames.InteractionBackward, rows, d.Vectors, d.Dim),
            _ => null,
        };
        if (measured is { } m && dt is DType.Fp32) { t.Run(m); return; }
        foreach (var k in forward ? o.Op.Forward(rows, dt.Bytes()) : o.Op.Backward(rows, dt.Bytes())) t.Run(ops.Kernel(k, dt));
    }

    /// <summary>Element counts of the dense model's parameter tensors (a linear layer's weight and bias are two).</summary>
    private static List<double> ParameterTensors(DlrmWorkload w)
    {
        var list = new List<double>();
        foreach (var o in w.DenseOperators)
        {
            if (o.Op is LinearOp l) { list.Add((double)l.Layer.In * l.Layer.Out); list.Add(l.Layer.Out); }
            else if (o.Op.Parameters > 0) list.Add(o.Op.Parameters);
        }
        return list;
    }
}
