using Sim.Nccl;

namespace Sim.Traces;

/// <summary>What Sim calls the work a kernel belongs to.</summary>
internal enum TraceOpClass
{
    EmbeddingForward, EmbeddingBackward, SparseOptimizer, DenseOptimizer,
    LinearForward, LinearBackward, InteractionForward, InteractionBackward,
    Collective, Unmapped,
}

/// <summary>A kernel's class and the host operator it is priced as part of (its owner).</summary>
internal readonly record struct KernelClass(TraceOpClass Class, int Owner, string? CollectiveOp);

/// <summary>
/// Maps device work to Sim's operators by the host operators that launched it, read outermost first (the first
/// that names a Sim operator owns the kernel: `aten::linear` owns the `aten::addmm` inside it), then by kernel name
/// for libraries whose kernels say what they are (FBGEMM's table-batched embeddings, NCCL). Covers eager PyTorch
/// (EmbeddingBag, autograd, torch.optim) and FBGEMM TBE; anything else is reported as unmapped, with its time.
/// </summary>
internal static class KernelClasses
{
    public static KernelClass Of(KinetoTrace t, GpuKernel k)
    {
        if (Nccl(k) is { } coll)
            return new KernelClass(TraceOpClass.Collective, CommsOwner(t, k), coll);
        var launcher = t.Launcher(k);
        if (launcher >= 0)
        {
            var chain = t.Chain(launcher).ToList();
            for (var i = chain.Count - 1; i >= 0; i--)
                if (ByOperator(t.Ops[chain[i]].Name, chain, t) is { } c)
                    return new KernelClass(c, chain[i], null);
        }
        if (k.Name.Contains("split_embedding", StringComparison.Ordinal) || k.Name.Contains("embedding_codegen", StringComparison.Ordinal))
            return new KernelClass(k.Name.Contains("backward", StringComparison.Ordinal) ? TraceOpClass.EmbeddingBackward : TraceOpClass.EmbeddingForward, launcher, null);
        return new KernelClass(TraceOpClass.Unmapped, launcher, null);
    }

    /// <summary>An operator name's Sim operator, if it names one.</summary>
    private static TraceOpClass? ByOperator(string name, List<int> chain, KinetoTrace t)
    {
        if (name.StartsWith("Optimizer.step#", StringComparison.Ordinal))
            // Sparse parameters step through coalesce / sparse kernels; dense ones through foreach or elementwise.
            return chain.Any(j => t.Ops[j].Name.Contains("sparse", StringComparison.OrdinalIgnoreCase) || t.Ops[j].Name.Contains("coalesce", StringComparison.Ordinal)
                || t.Ops[j].Name.Contains("index_add", StringComparison.Ordinal))
                ? TraceOpClass.SparseOptimizer : TraceOpClass.DenseOptimizer;
        if (name.Contains("EmbeddingBagBackward", StringComparison.Ordinal) || name.Contains("EmbeddingBackward", StringComparison.Ordinal)
            || name.Contains("embedding_bag_backward", StringComparison.Ordinal) || name.Contains("embedding_dense_backward", StringComparison.Ordinal)
            || name.Contains("SplitLookupFunction", StringComparison.Ordinal) && name.Contains("Backward", StringComparison.Ordinal))
            return TraceOpClass.EmbeddingBackward;
        if (name is "aten::embedding_bag" or "aten::_embedding_bag" or "aten::_embedding_bag_forward_only" or "aten::embedding"
            || name.StartsWith("fbgemm::split_embedding_codegen_lookup", StringComparison.Ordinal))
            return TraceOpClass.EmbeddingForward;
        if (name.Contains("AddmmBackward", StringComparison.Ordinal) || name.Contains("MmBackward", StringComparison.Ordinal)
            || name.Contains("ReluBackward", StringComparison.Ordinal))
            return TraceOpClass.LinearBackward;
        if (name.Contains("BmmBackward", StringComparison.Ordinal)) return TraceOpClass.InteractionBackward;
        if (name is "aten::linear" or "aten::addmm" or "aten::mm" or "aten::relu" or "aten::relu_") return TraceOpClass.LinearForward;
        if (name is "aten::bmm") return TraceOpClass.InteractionForward;
        return null;
    }

    /// <summary>An NCCL kernel's collective, by what the trace recorded or the kernel's name.</summary>
    private static string? Nccl(GpuKernel k)
    {
        if (!k.Name.StartsWith("nccl", StringComparison.OrdinalIgnoreCase)) return null;
        var n = k.Collective?.Name ?? k.Name;
        if (n.Contains("all_to_all", StringComparison.OrdinalIgnoreCase) || n.Contains("AllToAll", StringComparison.Ordinal)
            || n.Contains("SendRecv", StringComparison.Ordinal)) return CollectiveOps.AllToAllName;
        if (n.Contains("allreduce", StringComparison.OrdinalIgnoreCase) || n.Contains("all_reduce", StringComparison.OrdinalIgnoreCase)) return CollectiveOps.AllReduceName;
        if (n.Contains("allgather", StringComparison.OrdinalIgnoreCase) || n.Contains("all_gather", StringComparison.OrdinalIgnoreCase)) return CollectiveOps.AllGatherName;
        if (n.Contains("reducescatter", StringComparison.OrdinalIgnoreCase) || n.Contains("reduce_scatter", StringComparison.OrdinalIgnoreCase)) return CollectiveOps.ReduceScatterName;
        return "other";
    }

    /// <summary>The `record_param_comms` (or c10d) operator of an NCCL kernel, or its launcher.</summary>
    private static int CommsOwner(KinetoTrace t, GpuKernel k)
    {
        var l = t.Launcher(k);
        if (l < 0) return -1;
        foreach (var j in t.Chain(l).Reverse())
            if (t.Ops[j].Collective is not null || t.Ops[j].Name.StartsWith("c10d::", StringComparison.Ordinal)) return j;
        return l;
    }
}
