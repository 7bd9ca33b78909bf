namespace Sim.Cost.Operators;

/// <summary>The operators of the microbenchmark grid and the shape keys each carries.</summary>
public static class OperatorNames
{
    /// <summary>C = A·B; shape m, k, n.</summary>
    public const string Gemm = "gemm";
    /// <summary>Sum-pooled EmbeddingBag forward; shape rows, dim, batch, pooling (lookups = batch · pooling), unique_rows.</summary>
    public const string EmbeddingForward = "embedding_forward";
    /// <summary>
    /// Embedding backward with its optimizer step (eager: autograd to a sparse gradient, then the sparse optimizer;
    /// fused: one pass); shape rows, dim, batch, pooling, unique_rows.
    /// </summary>
    public const string EmbeddingBackward = "embedding_backward";
    /// <summary>Eager only: the optimizer step alone on an uncoalesced sparse gradient; shape rows, dim, batch, pooling, unique_rows.</summary>
    public const string SparseOptimizer = "sparse_optimizer";
    /// <summary>Optimizer step over dense parameters; shape params and (optional, default 1) tensors: each tensor its own step.</summary>
    public const string DenseOptimizer = "dense_optimizer";
    /// <summary>
    /// Framework work per embedding slice: forward and backward of cutting a (batch x slices·dim) buffer into
    /// slices and assembling them (autograd through views); shape slices, batch, dim.
    /// </summary>
    public const string SliceAssembly = "slice_assembly";
    /// <summary>An elementwise kernel over a tensor; shape elements. Its host time is the stack's cost to issue one kernel.</summary>
    public const string Elementwise = "elementwise";
    /// <summary>One MLP layer, linear (bias fused) then ReLU, forward; shape batch, in, out.</summary>
    public const string LinearForward = "linear_forward";
    /// <summary>Its backward (input, weight and bias gradients); shape batch, in, out.</summary>
    public const string LinearBackward = "linear_backward";
    /// <summary>DLRM's dot interaction (stack, batched X·Xᵀ, upper triangle, concatenation) forward; shape batch, features, dim.</summary>
    public const string InteractionForward = "interaction_forward";
    /// <summary>Its backward; shape batch, features, dim.</summary>
    public const string InteractionBackward = "interaction_backward";
    /// <summary>One row-split table's indices bucketised by shard and the bucket sizes read by the host; shape batch, pooling, shards, lookups.</summary>
    public const string InputBucketize = "input_bucketize";
    /// <summary>The gradients flattened into one buffer before the all-reduce; shape tensors, params.</summary>
    public const string GradientPack = "gradient_pack";
    /// <summary>The table-wise part of the input distribution around its all-to-all (send pieces, receive unpacking); shape tables, lookups.</summary>
    public const string InputPack = "input_pack";
    /// <summary>One torch.distributed collective call on a one-rank group: the host's cost of issuing a collective; shape all_to_all (0 or 1), bytes.</summary>
    public const string CollectiveCall = "collective_call";
    public static readonly IReadOnlyList<string> All = [Gemm, EmbeddingForward, EmbeddingBackward, SparseOptimizer, DenseOptimizer, SliceAssembly, Elementwise,
        LinearForward, LinearBackward, InteractionForward, InteractionBackward, InputBucketize, GradientPack, InputPack, CollectiveCall];
}
