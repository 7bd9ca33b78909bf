namespace Sim.Tests;

/// <summary>Bad workload files: exit code 2 and one line naming the file, the field and the problem.</summary>
public class WorkloadBadInputTests
{
    private const string Head = "name: w\nsource: test\nbatch_size: 1024\n";
    private const string Dlrm = Head + "dense_features: 13\nbottom_mlp: [64, 32]\ntop_mlp: [64, 1]\n";

    private static void AssertBadInput(string yaml, string field, string problem)
    {
        using var dir = new Fixtures.TempDir();
        var w = dir.Write("work.yaml", yaml);
        foreach (var args in new[] { new[] { "workload", "describe", w }, ["predict", Fixtures.Repo("topologies/zionex-16node.yaml"), w] })
        {
            var r = CliRunner.Run(args);
            Assert.Equal(2, r.ExitCode);
            var line = r.Stderr.TrimEnd('\n');
            Assert.DoesNotContain('\n', line);
            Assert.StartsWith("error: ", line);
            Assert.Contains("work.yaml:", line);
            Assert.Contains($": {field}: ", line);
            Assert.Contains(problem, line);
            Assert.Equal("", r.Stdout);
        }
    }

    private const string SeqModel = Head + "dense_features: 0\ninteraction: concat\ntop_mlp: [2]\n";

    [Fact]
    public void Sequence_length_of_zero() =>
        AssertBadInput(SeqModel + "sequence_layers: [{kind: lstm, hidden: 8}]\ntables:\n  - {name: w, rows: 100, dim: 8, pooling_factor: 1, sequence: {length: 0}}\n",
            "tables[0].sequence.length", "must be positive");

    [Fact]
    public void A_table_beyond_ten_to_the_fifteen_bytes() =>
        AssertBadInput(Dlrm + "interaction: dcn\ndcn: {layers: 1}\ntables:\n  - {name: t, rows: 100000000000000, dim: 4096, pooling_factor: 1}\n",
            "tables[0].rows", "byte limit");

    [Fact]
    public void Rows_beyond_the_limit() =>
        AssertBadInput(Dlrm + "tables:\n  - {name: t, rows: 1e19, dim: 32, pooling_factor: 1}\n", "tables[0].rows", "too large");

    [Fact]
    public void Dcn_without_its_cross_layers() =>
        AssertBadInput(Dlrm + "interaction: dcn\ntables:\n  - {name: t, rows: 10, dim: 32, pooling_factor: 1}\n", "dcn", "required field is missing");

    [Fact]
    public void Cross_layers_with_the_dot_interaction() =>
        AssertBadInput(Dlrm + "dcn: {layers: 2}\ntables:\n  - {name: t, rows: 10, dim: 32, pooling_factor: 1}\n", "dcn", "only used with interaction: dcn");

    [Fact]
    public void Zero_cross_layers() =>
        AssertBadInput(Dlrm + "interaction: dcn\ndcn: {layers: 0}\ntables:\n  - {name: t, rows: 10, dim: 32, pooling_factor: 1}\n", "dcn.layers", "must be positive");

    [Fact]
    public void A_sequence_nothing_reads() =>
        AssertBadInput(Dlrm + "tables:\n  - {name: t, rows: 10, dim: 32, pooling_factor: 1, sequence: {length: 5}}\n", "tables[0].sequence", "needs sequence_layers");

    [Fact]
    public void Sequence_layers_without_a_sequence() =>
        AssertBadInput(SeqModel + "sequence_layers: [{kind: lstm, hidden: 8}]\ntables:\n  - {name: w, rows: 100, dim: 8, pooling_factor: 1}\n", "sequence_layers", "no table has a sequence");

    [Fact]
    public void A_convolution_wider_than_its_sequence() =>
        AssertBadInput(SeqModel + "sequence_layers: [{kind: conv1d, filters: 4, width: 9}]\ntables:\n  - {name: w, rows: 100, dim: 8, pooling_factor: 1, sequence: {length: 5}}\n",
            "sequence_layers[0].width", "longer than the 5-step sequence");

    [Fact]
    public void An_unknown_sequence_layer() =>
        AssertBadInput(SeqModel + "sequence_layers: [{kind: gru, hidden: 8}]\ntables:\n  - {name: w, rows: 100, dim: 8, pooling_factor: 1, sequence: {length: 5}}\n",
            "sequence_layers[0].kind", "expected one of: conv1d, lstm");

    [Fact]
    public void Zero_length_distribution_minimum_above_the_length() =>
        AssertBadInput(SeqModel + "sequence_layers: [{kind: lstm, hidden: 8}]\ntables:\n  - {name: w, rows: 100, dim: 8, pooling_factor: 1, sequence: {length: 5, length_distribution: uniform, min_length: 9}}\n",
            "tables[0].sequence.min_length", "must be at most length");

    [Fact]
    public void Negative_samples_without_a_sampled_softmax() =>
        AssertBadInput(Dlrm + "tables:\n  - {name: t, rows: 10, dim: 32, pooling_factor: 1, negative_samples: 5}\n", "tables[0].negative_samples", "interaction: negative_sampling");

    [Fact]
    public void Negative_sampling_with_a_top_mlp() =>
        AssertBadInput(Head + "dense_features: 0\ninteraction: negative_sampling\ntop_mlp: [4]\ntables:\n  - {name: a, rows: 10, dim: 8, pooling_factor: 3}\n  - {name: o, rows: 10, dim: 8, pooling_factor: 1, negative_samples: 2}\n",
            "top_mlp", "no top MLP");

    [Fact]
    public void Negative_sampling_without_an_output_table() =>
        AssertBadInput(Head + "dense_features: 0\ninteraction: negative_sampling\ntables:\n  - {name: a, rows: 10, dim: 8, pooling_factor: 3}\n", "interaction", "needs a table with negative_samples");

    [Fact]
    public void Hot_rows_colder_than_average() =>
        AssertBadInput(Dlrm + "tables:\n  - {name: t, rows: 10, dim: 32, pooling_factor: 1, access: {hot_fraction: 0.5, hot_share: 0.2}}\n", "tables[0].access.hot_share", "at least their share");

    [Fact]
    public void Two_kinds_of_skew_at_once() =>
        AssertBadInput(Dlrm + "tables:\n  - {name: t, rows: 10, dim: 32, pooling_factor: 1, access: {zipf: 1.1, hot_fraction: 0.1, hot_share: 0.9}}\n", "tables[0].access.zipf", "not both");

    [Fact]
    public void Unknown_access_word() =>
        AssertBadInput(Dlrm + "tables:\n  - {name: t, rows: 10, dim: 32, pooling_factor: 1, access: skewed}\n", "tables[0].access", "expected uniform");

    [Fact]
    public void Scale_and_bias_on_a_float_table() =>
        AssertBadInput(Dlrm + "tables:\n  - {name: t, rows: 10, dim: 32, pooling_factor: 1, scale_bias_dtype: fp16}\n", "tables[0].scale_bias_dtype", "only int8");

    [Fact]
    public void Tsl_needs_every_table_per_time_step() =>
        AssertBadInput(Head + "dense_features: 1\nbottom_mlp: [8]\ntop_mlp: [4]\ntsl: {history: 4, output_mlp: [1]}\ntables:\n  - {name: t, rows: 10, dim: 8, pooling_factor: 1}\n",
            "tables[0].sequence", "every table needs sequence: {length: 5}");

    [Fact]
    public void Tsl_with_the_wrong_length() =>
        AssertBadInput(Head + "dense_features: 1\nbottom_mlp: [8]\ntop_mlp: [4]\ntsl: {history: 4, output_mlp: [1]}\ntables:\n  - {name: t, rows: 10, dim: 8, pooling_factor: 1, sequence: {length: 4}}\n",
            "tables[0].sequence", "fixed length of 5 steps");

    [Fact]
    public void Dot_still_checks_dims() =>
        AssertBadInput(Dlrm + "tables:\n  - {name: t, rows: 10, dim: 32, pooling_factor: 1}\n  - {name: u, rows: 10, dim: 16, pooling_factor: 1}\n", "tables[1].dim", "dot interaction needs");

    [Fact]
    public void Dot_without_a_bottom_mlp() =>
        AssertBadInput(Head + "dense_features: 0\ntop_mlp: [4]\ntables:\n  - {name: t, rows: 10, dim: 8, pooling_factor: 1}\n", "bottom_mlp", "needs a bottom MLP");

    [Fact]
    public void Bottom_mlp_without_dense_features() =>
        AssertBadInput(Head + "dense_features: 0\nbottom_mlp: [8]\ninteraction: concat\ntop_mlp: [4]\ntables:\n  - {name: t, rows: 10, dim: 8, pooling_factor: 1}\n", "bottom_mlp", "needs dense features");
}
