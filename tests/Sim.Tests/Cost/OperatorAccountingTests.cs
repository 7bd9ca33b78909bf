using Sim.Workload;
using Sim.Workload.Ops;
using Sim.Hardware;

namespace Sim.Tests;

/// <summary>FLOPs, bytes and parameters of every operator, forward and backward, against numbers worked out by hand.</summary>
public class OperatorAccountingTests
{
    private static double Flops(IEnumerable<KernelWork> k) => k.Sum(x => x.Flops);
    private static double Bytes(IEnumerable<KernelWork> k) => k.Sum(x => x.Bytes);

    [Fact]
    public void Linear_forward_is_one_gemm_and_an_fp32_epilogue()
    {
        var op = new LinearOp(new DenseLayer(13, 512));
        Assert.Equal(13 * 512 + 512, op.Parameters);
        var fwd = op.Forward(1024, 4);
        // 2·1024·13·512 FLOPs; (1024·13 + 13·512 + 1024·512)·4 bytes; bias + activation reads and writes 1024·512 fp32.
        Assert.Equal(13_631_488, fwd[0].Flops);
        Assert.Equal(2_177_024, fwd[0].Bytes);
        Assert.Equal(0, fwd[1].Flops);
        Assert.Equal(4_194_304, fwd[1].Bytes);
        Assert.Equal(2.0 * 13 * 512, op.ForwardFlopsPerRow);
    }

    [Fact]
    public void Linear_backward_is_two_gemms_of_the_forward_size()
    {
        var op = new LinearOp(new DenseLayer(13, 512));
        var bwd = op.Backward(1024, 4);
        Assert.Equal(3, bwd.Count);
        Assert.All(bwd.Take(2), k => Assert.Equal(13_631_488, k.Flops));
        Assert.All(bwd.Take(2), k => Assert.Equal(2_177_024, k.Bytes));
        Assert.Equal(3.0 * 1024 * 512 * 4, bwd[2].Bytes);
        Assert.Equal(2 * op.ForwardFlopsPerRow, op.BackwardFlopsPerRow);
    }

    [Fact]
    public void Dot_interaction_counts_the_full_batched_product()
    {
        var op = new DotInteractionOp(27, 128);
        Assert.Equal(0, op.Parameters);
        Assert.Equal(128 + 27 * 26 / 2, op.Outputs);
        var fwd = op.Forward(1, 4).Single();
        Assert.Equal(2.0 * 27 * 27 * 128, fwd.Flops); // 186,624
        Assert.Equal((27 * 128 + 27 * 27) * 4.0, fwd.Bytes); // 16,740
        Assert.Equal(2, op.Backward(1, 4).Count);
        Assert.Equal(2 * 186_624, Flops(op.Backward(1, 4)));
        Assert.Equal(2 * 16_740, Bytes(op.Backward(1, 4)));
    }

    [Fact]
    public void Dcn_v2_low_rank_cross_layer_by_hand()
    {
        // MLPerf DLRM-DCNv2: n = 27 x 128 = 3456 inputs, rank 512.
        var op = new CrossLayerOp(3456, 512);
        Assert.Equal(2L * 3456 * 512 + 3456, op.Parameters); // U, V and the bias: 3,542,400
        Assert.Equal(3_542_400, op.Parameters);
        // V·x (2nr) + U·(V·x) (2rn) + Hadamard and residual (2n).
        Assert.Equal(4.0 * 3456 * 512 + 2 * 3456, op.ForwardFlopsPerRow); // 7,084,800
        Assert.Equal(2 * op.ForwardFlopsPerRow, op.BackwardFlopsPerRow);
        var fwd = op.Forward(2, 4);
        Assert.Equal((2 * 3456 + 3456 * 512 + 2 * 512) * 4.0, fwd[0].Bytes);
        Assert.Equal((2 * 512 + 512 * 3456 + 2 * 3456) * 4.0, fwd[1].Bytes);
        Assert.Equal(4.0 * 2 * 3456 * 4, fwd[2].Bytes); // reads x0, x_l, the product; writes x_{l+1}
        Assert.Equal(2 * Bytes(fwd), Bytes(op.Backward(2, 4)));
    }

    [Fact]
    public void Dcn_v2_full_rank_cross_layer_by_hand()
    {
        var op = new CrossLayerOp(4, 0);
        Assert.Equal(4 * 4 + 4, op.Parameters);
        Assert.Equal(2.0 * 16 + 2 * 4, op.ForwardFlopsPerRow);
        Assert.Equal(2, op.Forward(1, 4).Count);
    }

    [Fact]
    public void Conv1d_by_hand()
    {
        // C-LSTM: 300 channels, 150 filters of width 3 over 56 steps: 54 output steps.
        var op = new Conv1dOp(300, 150, 3, 56);
        Assert.Equal(54, op.OutputLength);
        Assert.Equal(150 * 300 * 3 + 150, op.Parameters);
        var fwd = op.Forward(1, 4);
        Assert.Equal(2.0 * 54 * 300 * 3 * 150, fwd[0].Flops); // 14,580,000
        Assert.Equal((56 * 300 + 300 * 3 * 150 + 54 * 150) * 4.0, fwd[0].Bytes); // 639,600
        Assert.Equal(2.0 * 54 * 150 * 4, fwd[1].Bytes);
        Assert.Equal(2 * 14_580_000.0, op.BackwardFlopsPerRow);
    }

    [Fact]
    public void Max_over_time_by_hand()
    {
        var op = new TemporalMaxPoolOp(54, 150);
        Assert.Equal(54.0 * 150, op.ForwardFlopsPerRow);
        Assert.Equal((54.0 * 150 + 150) * 4, op.Forward(1, 4)[0].Bytes);
    }

    [Fact]
    public void Lstm_by_hand()
    {
        var op = new LstmOp(150, 150, 54);
        Assert.Equal(4 * 150 * (150 + 150) + 8 * 150, op.Parameters); // 181,200
        var fwd = op.Forward(1, 4);
        Assert.Equal(2.0 * 54 * 150 * 600, fwd[0].Flops);               // all steps' input projection
        Assert.Equal(54 * (2.0 * 150 * 600 + 4 * 150), fwd[1].Flops);    // recurrent product + cell update
        Assert.Equal(54, fwd[1].Launches);
        Assert.Equal(54 * (12.0 * 150 + 4 * 150 * 150 + 8 * 150) * 4, fwd[1].Bytes);
        Assert.Equal(54 * (8.0 * 150 * 300 + 4 * 150), op.ForwardFlopsPerRow); // T·(8H(I+H) + 4H) = 19,472,400
        Assert.Equal(2 * op.ForwardFlopsPerRow, op.BackwardFlopsPerRow);
        Assert.Equal(54, op.Backward(1, 4)[^1].Launches);
    }

    [Fact]
    public void Tsl_attention_by_hand()
    {
        // TBSM: history 20, m 15.
        var psd = new TslAttentionOp(20, 15, TslInner.Psd);
        Assert.Equal(15 * 15, psd.Parameters);
        Assert.Equal(4.0 * 15 * 15 + 2 * 20 * 15 + 2 * 20 * 15, psd.ForwardFlopsPerRow); // A·w, Aᵀ(A·w), scores, context
        var indefinite = new TslAttentionOp(20, 15, TslInner.Indefinite);
        Assert.Equal(2.0 * 15 * 15 + 4 * 20 * 15, indefinite.ForwardFlopsPerRow);
        var dot = new TslAttentionOp(20, 15, TslInner.Dot);
        Assert.Equal(0, dot.Parameters);
        Assert.Equal(4.0 * 20 * 15, dot.ForwardFlopsPerRow);
        Assert.Equal(2 * psd.ForwardFlopsPerRow, psd.BackwardFlopsPerRow);
        var scores = psd.Forward(1, 4)[2];
        Assert.Equal((20 * 15 + 15 + 20) * 4.0, scores.Bytes);
        Assert.Equal(3.0 * 21 * 15, new TslNormalizeOp(21, 15).ForwardFlopsPerRow);
    }

    [Fact]
    public void Negative_sampling_head_by_hand()
    {
        // CeWE: context = pooled words + category (2 vectors of 300), scored against 1 + 5 candidates.
        var op = new NegativeSamplingOp(2, 6, 300);
        Assert.Equal(300.0 + 2 * 6 * 300, op.ForwardFlopsPerRow);
        Assert.Equal(2 * 2.0 * 6 * 300, op.BackwardFlopsPerRow);
        Assert.Equal((6 * 300 + 300 + 6) * 4.0, op.Forward(1, 4)[1].Bytes);
    }

    [Fact]
    public void Embedding_lookup_and_pooling_by_hand()
    {
        var t = new EmbeddingTable("t", 1000, 64, 10, DType.Fp32);
        // 100 samples: 1,000 rows of 64 fp32 read, 100 pooled fp32 vectors written; 9 adds per element of each bag.
        var fwd = EmbeddingOps.Forward(t, 100, 64);
        Assert.Equal(1000 * 256 + 100 * 64 * 4.0, fwd.Bytes);
        Assert.Equal((1000 - 100) * 64.0, fwd.Flops);
        var bwd = EmbeddingOps.Backward(t, 100, 64, Optimizer.RowWiseAdagrad);
        Assert.Equal(100 * 64 * 4 + 2 * 1000 * 256 + 2 * 1000 * 4.0, bwd.Bytes);
        Assert.Equal(1000 * 64 * 4.0, bwd.Flops);
        Assert.Equal(1000 * 64 * 2.0, EmbeddingOps.Backward(t, 100, 64, Optimizer.Sgd).Flops);
        // A row-wise shard of 4 serves a quarter of the lookups but writes partial sums for every sample.
        Assert.Equal(250 * 256 + 100 * 64 * 4.0, EmbeddingOps.Forward(t, 100, 64, 0.25).Bytes);
    }

    [Fact]
    public void Int8_rows_carry_their_scale_and_bias()
    {
        var t = new EmbeddingTable("q", 1000, 64, 10, DType.Int8);
        Assert.Equal(8, t.RowOverheadBytes);
        Assert.Equal(1000 * 64 + 1000 * 8, t.Bytes);
        Assert.Equal(72, t.RowBytes(64));
        Assert.Equal(500L * (32 + 8), t.ShardBytes(500, 32));
        Assert.Equal(1000 * 64 + 1000 * 4, (t with { ScaleBiasDType = DType.Fp16 }).Bytes);
        var fwd = EmbeddingOps.Forward(t, 100, 64);
        Assert.Equal(1000 * 72 + 100 * 64 * 4.0, fwd.Bytes);
        Assert.Equal((1000 - 100) * 64.0 + 2 * 1000 * 64, fwd.Flops); // pooling + dequantisation
        Assert.Equal(0, new EmbeddingTable("h", 1000, 64, 1, DType.Fp16).RowOverheadBytes);
    }

    [Fact]
    public void Sequences_and_negative_samples_multiply_lookups_and_vectors()
    {
        var seq = new EmbeddingTable("s", 100, 8, 2, DType.Fp32) { Sequence = new SequenceFeature(20, LengthDistribution.Uniform, 1) };
        Assert.Equal(10.5, seq.VectorsPerSample);
        Assert.Equal(21, seq.LookupsPerSample);
        var fixedLength = seq with { Sequence = new SequenceFeature(21) };
        Assert.Equal(21, fixedLength.VectorsPerSample);
        // Zipf over 1..3 with exponent 1: weights 1, 1/2, 1/3; mean = 3 / (11/6) = 18/11.
        Assert.Equal(18.0 / 11, new SequenceFeature(3, LengthDistribution.Zipf, 1, 1.0).MeanLength, 12);
        var output = new EmbeddingTable("o", 100, 8, 1, DType.Fp32) { NegativeSamples = 5 };
        Assert.Equal(6, output.LookupsPerSample);
        Assert.Equal(6, output.VectorsPerSample);
        Assert.Equal(1, new EmbeddingTable("p", 100, 8, 3, DType.Fp32).VectorsPerSample);
    }
}
