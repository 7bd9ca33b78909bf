using System.CommandLine;
using System.Text.Json.Nodes;
using System.Globalization;
using Sim.Config;
using Sim.Hardware;
using Sim.Workload;
using Spectre.Console;

namespace Sim.Cli;

/// <summary>`sim workload describe FILE` and `sim workload generate --tables N --total-params P --seed S ...`.</summary>
internal static class WorkloadCommand
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static Command Create(TextWriter stdout)
    {
        var cmd = new Command("workload", "Inspect a model description, or generate a synthetic table set for capacity studies.");
        cmd.Subcommands.Add(Describe(stdout));
        cmd.Subcommands.Add(Generate(stdout));
        return cmd;
    }

    private static Command Describe(TextWriter stdout)
    {
        var file = new Argument<string>("workload") { Description = "model description (YAML or JSON), e.g. workloads/mlperf-dlrm-dcnv2.yaml" };
        var json = JsonOutput.Option("the description");
        var cmd = new Command("describe", "Parameters, bytes by dtype, FLOPs and lookups per sample, interaction and every dense operator.") { file, json };
        cmd.SetAction(r =>
        {
            var summary = WorkloadSummary.Of(WorkloadLoader.Load(r.GetValue(file)!));
            if (r.GetValue(json)) JsonOutput.Print(stdout, Json(summary));
            else Render(summary, stdout);
            return 0;
        });
        return cmd;
    }

    private static Command Generate(TextWriter stdout)
    {
        var tables = new Option<string?>("--tables") { Description = "number of tables (required)" };
        var total = new Option<string?>("--total-params") { Description = "embedding parameters in all, e.g. 1e12 (required; up to 1e15)" };
        var seed = new Option<string?>("--seed") { Description = "random seed: the same seed gives the same file (required)" };
        var dim = new Option<string?>("--dim") { Description = "one dim for every table (default 64)" };
        var dims = new Option<string?>("--dims") { Description = "dims to draw from, comma-separated, e.g. 32,64,128 (mixed dims use a DCN-v2 interaction)" };
        var zipf = new Option<string?>("--zipf-rows") { Description = "power-law exponent of the table sizes: table i holds a share ∝ i^-A of the parameters (default 1)" };
        var pooling = new Option<string?>("--pooling-mean") { Description = "mean pooling factor; factors follow a Pareto(2) law (default 10)" };
        var batch = new Option<string?>("--batch") { Description = "global batch size (default 65536)" };
        var interaction = new Option<string?>("--interaction") { Description = "dot or dcn (default: dot for one dim and at most 256 tables, else dcn)" };
        var name = new Option<string?>("--name") { Description = "workload name (default synthetic-N-tables-seedS)" };
        var output = new Option<string?>("--out") { Description = "write the workload here (default: print it)" };
        var cmd = new Command("generate", "Generate a synthetic workload: power-law table sizes summing to the requested parameters, seeded and deterministic.")
        {
            tables, total, seed, dim, dims, zipf, pooling, batch, interaction, name, output,
        };
        cmd.SetAction(r =>
        {
            string Required(Option<string?> o) => r.GetValue(o) ?? throw new SimInputException(o.Name, "", "required option is missing");
            if (r.GetValue(dim) is not null && r.GetValue(dims) is not null)
                throw new SimInputException("--dims", "", "give either --dim or --dims, not both");
            var options = new GeneratorOptions(
                (int)Whole("--tables", Required(tables), 1, WorkloadGenerator.MaxTables),
                Number("--total-params", Required(total)),
                Whole("--seed", Required(seed), long.MinValue, long.MaxValue))
            {
                Dims = r.GetValue(dims) is { } list
                    ? list.Split(',', StringSplitOptions.TrimEntries).Select(d => (int)Whole("--dims", d, 1, 1 << 16)).ToArray()
                    : [(int)Whole("--dim", r.GetValue(dim) ?? "64", 1, 1 << 16)],
                ZipfRows = r.GetValue(zipf) is { } z ? Number("--zipf-rows", z) : 1.0,
                PoolingMean = r.GetValue(pooling) is { } pm ? Number("--pooling-mean", pm) : 10,
                BatchSize = r.GetValue(batch) is { } b ? Whole("--batch", b, 1, 1L << 40) : 65536,
                Name = r.GetValue(name),
                Interaction = r.GetValue(interaction) is { } i
                    ? Interactions.Words.TryGetValue(i, out var kind) && kind is Interaction.Dot or Interaction.Dcn
                        ? kind : throw new SimInputException("--interaction", "", $"unknown value '{i}'; expected one of: dot, dcn")
                    : null,
            };
            var w = WorkloadGenerator.Generate(options);
            var yaml = WorkloadWriter.ToYaml(w, WorkloadGenerator.Header(options));
            if (r.GetValue(output) is { } path)
            {
                AtomicFile.WriteAllText(path, yaml);
                stdout.WriteLine($"wrote {path}: {w.Tables.Count.ToString("N0", Inv)} tables, {w.EmbeddingParameters.ToString("N0", Inv)} embedding parameters ({Units.Bytes(w.EmbeddingBytes)} fp32), seed {options.Seed.ToString(Inv)}");
            }
            else stdout.Write(yaml);
            return 0;
        });
        return cmd;
    }

    private static long Whole(string option, string text, long min, long max)
    {
        var t = text.Replace("_", "", StringComparison.Ordinal);
        if (!long.TryParse(t, NumberStyles.AllowLeadingSign, Inv, out var v))
        {
            if (!double.TryParse(t, NumberStyles.Float, Inv, out var d) || !double.IsFinite(d) || d != Math.Floor(d) || Math.Abs(d) >= 9.2e18)
                throw new SimInputException(option, "", $"expected a whole number, found '{text}'");
            v = (long)d;
        }
        if (v < min || v > max) throw new SimInputException(option, "", $"must be from {min.ToString(Inv)} to {max.ToString(Inv)}, found {text}");
        return v;
    }

    private static double Number(string option, string text)
    {
        if (!double.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.Float, Inv, out var v) || !double.IsFinite(v))
            throw new SimInputException(option, "", $"expected a number, found '{text}'");
        return v;
    }

    private static string Count(double v) => v.ToString("N0", Inv);

    private static string Si(double v)
    {
        string[] u = ["", " K", " M", " G", " T", " P"];
        var i = 0;
        while (Math.Abs(v) >= 1000 && i < u.Length - 1) { v /= 1000; i++; }
        return v.ToString(i == 0 ? "0.##" : "0.00", Inv) + u[i];
    }

    private static JsonObject Json(WorkloadSummary s)
    {
        var w = s.Workload;
        return new JsonObject
        {
            ["name"] = w.Name, ["source"] = w.Source, ["global_batch_size"] = w.GlobalBatchSize, ["optimizer"] = w.Optimizer.Name(),
            ["compute_dtype"] = w.Precision.Compute.Name(), ["interaction"] = s.InteractionText, ["tables"] = w.Tables.Count,
            ["sequence_features"] = s.SequenceFeatures,
            ["largest_table"] = new JsonObject { ["name"] = s.LargestTable.Name, ["rows"] = s.LargestTable.Rows, ["dim"] = s.LargestTable.Dim, ["bytes"] = s.LargestTable.Bytes },
            ["parameters"] = s.TotalParameters, ["embedding_parameters"] = w.EmbeddingParameters, ["dense_parameters"] = w.DenseParameters,
            ["embedding_bytes"] = w.EmbeddingBytes, ["dense_bytes"] = s.DenseBytes,
            ["bytes_by_dtype"] = JsonOutput.Array(s.BytesByDType, b => new JsonObject { ["dtype"] = b.DType.Name(), ["tables"] = b.Tables, ["bytes"] = b.Bytes }),
            ["lookups_per_sample"] = w.EmbeddingLookupsPerSample, ["vectors_per_sample"] = w.EmbeddingVectorsPerSample,
            ["embedding_bytes_per_sample"] = s.EmbeddingBytesPerSample, ["dense_forward_flops_per_sample"] = w.DenseForwardFlopsPerSample,
            ["dense_training_flops_per_sample"] = w.DenseTrainingFlopsPerSample, ["embedding_forward_flops_per_sample"] = s.EmbeddingForwardFlopsPerSample,
            ["cache_fraction"] = WorkloadSummary.CacheFraction, ["lookup_weighted_hit_rate"] = s.LookupWeightedHitRate,
            ["dense_operators"] = JsonOutput.Array(w.DenseOperators, o => new JsonObject
            {
                ["name"] = o.Name, ["kind"] = o.Op.Kind, ["shape"] = o.Op.Shape, ["rows_per_sample"] = o.RowsPerSample,
                ["parameters"] = o.Op.Parameters, ["forward_flops_per_sample"] = o.ForwardFlopsPerSample,
            }),
        };
    }

    private static void Render(WorkloadSummary s, TextWriter stdout)
    {
        var w = s.Workload;
        var console = Terminal.For(stdout);
        console.MarkupLine($"[bold]{Markup.Escape(w.Name)}[/]");
        stdout.WriteLine($"source:        {w.Source}");
        stdout.WriteLine($"batch:         {Count(w.GlobalBatchSize)} samples per iteration; optimizer {w.Optimizer.Name()}; compute {w.Precision.Compute.Name()}");
        stdout.WriteLine($"interaction:   {s.InteractionText}");
        foreach (var note in s.ModelNotes) stdout.WriteLine($"               {note}");
        var big = s.LargestTable;
        stdout.WriteLine($"tables:        {Count(w.Tables.Count)} ({Count(s.SequenceFeatures)} sequence features); largest '{big.Name}': {Count(big.Rows)} rows x {big.Dim} {big.DType.Name()} = {Units.Bytes(big.Bytes)}");
        stdout.WriteLine($"parameters:    {Count(s.TotalParameters)} ({Si(s.TotalParameters)}): embedding {Count(w.EmbeddingParameters)}, dense {Count(w.DenseParameters)}");
        var bytes = string.Join("; ", s.BytesByDType.Select(b => $"{b.DType.Name()} {Units.Bytes(b.Bytes)} in {Count(b.Tables)} tables"));
        stdout.WriteLine($"bytes:         embeddings {Units.Bytes(w.EmbeddingBytes)} ({bytes}); dense weights fp32 {Units.Bytes(s.DenseBytes)}");
        stdout.WriteLine($"lookups:       {Si(w.EmbeddingLookupsPerSample)} rows per sample into {Si(w.EmbeddingVectorsPerSample)} vectors; {Units.Bytes(s.EmbeddingBytesPerSample)} gathered and written per sample");
        stdout.WriteLine($"FLOPs/sample:  dense forward {Si(w.DenseForwardFlopsPerSample)}, training {Si(w.DenseTrainingFlopsPerSample)} (forward + backward, {(w.DenseForwardFlopsPerSample > 0 ? w.DenseTrainingFlopsPerSample / w.DenseForwardFlopsPerSample : 0).ToString("0.00", Inv)}x); embedding pooling {Si(s.EmbeddingForwardFlopsPerSample)}");
        stdout.WriteLine($"cache:         a cache of {WorkloadSummary.CacheFraction:P0} of each table's rows would serve {s.LookupWeightedHitRate.ToString("P1", Inv)} of the lookups");

        var table = new Table().AddColumns("operator", "kind", "shape", "runs/sample", "parameters", "fwd FLOPs/sample", "share");
        foreach (var c in table.Columns.Skip(3)) c.RightAligned();
        var totalFlops = w.DenseForwardFlopsPerSample;
        foreach (var o in w.DenseOperators)
            table.AddRow(Markup.Escape(o.Name), o.Op.Kind, Markup.Escape(o.Op.Shape), o.RowsPerSample.ToString("0.##", Inv), Count(o.Op.Parameters),
                Si(o.ForwardFlopsPerSample), totalFlops > 0 ? (o.ForwardFlopsPerSample / totalFlops).ToString("P1", Inv) : "");
        console.Write(table);
    }
}
