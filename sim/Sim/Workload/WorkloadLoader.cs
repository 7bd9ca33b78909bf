using Sim.Config;
using YamlNode = YamlDotNet.RepresentationModel.YamlNode;
using YamlScalarNode = YamlDotNet.RepresentationModel.YamlScalarNode;
using Sim.Hardware;

namespace Sim.Workload;

/// <summary>
/// Reads a workload file (schema: workloads/README.md). A table entry with `count: N` stands for N tables named
/// NAME_0..NAME_{N-1}. Every problem is one line naming the file, the position and the field.
/// </summary>
public static class WorkloadLoader
{
    public const long MaxTables = 10_000_000;
    /// <summary>Largest table accepted, in bytes (10^15): far beyond any cluster, small enough that sums never overflow.</summary>
    public const double MaxTableBytes = 1e15;
    public const long MaxRows = 1_000_000_000_000_000;
    /// <summary>Widest interaction output accepted (the top MLP's input).</summary>
    public const long MaxInteractionOutputs = 1L << 30;

    public static DlrmWorkload Load(string path) => Read(YamlDocument.LoadFile(path));
    public static DlrmWorkload Parse(string text, string fileName) => Read(YamlDocument.Parse(text, fileName));

    private static readonly IReadOnlyDictionary<string, DType> ScaleBiasWords = new Dictionary<string, DType> { ["fp32"] = DType.Fp32, ["fp16"] = DType.Fp16 };
    private static readonly IReadOnlyDictionary<string, LengthDistribution> LengthWords = new Dictionary<string, LengthDistribution>
    {
        ["fixed"] = LengthDistribution.Fixed, ["uniform"] = LengthDistribution.Uniform, ["zipf"] = LengthDistribution.Zipf,
    };
    private static readonly IReadOnlyDictionary<string, SequenceLayerKind> LayerWords = new Dictionary<string, SequenceLayerKind>
    {
        ["conv1d"] = SequenceLayerKind.Conv1d, ["lstm"] = SequenceLayerKind.Lstm,
    };

    /// <summary>The stacks a workload may name (issue 14): a form (eager, fused) or a measured stack.</summary>
    private static readonly IReadOnlyDictionary<string, string> StackWords =
        new[] { "eager", "fused", "pytorch-eager", "harness-eager", "harness-fused" }.ToDictionary(w => w, w => w);

    private static DlrmWorkload Read(YamlMap root)
    {
        var name = root.RequireString("name");
        var source = root.RequireString("source");
        root.OptionalString("description");
        var batch = root.RequireLong("batch_size", 1, 1L << 40);
        var denseFeatures = root.RequireInt("dense_features", 0, 1 << 24);
        int[] bottom = denseFeatures > 0 || root.Has("bottom_mlp") ? ReadLayers(root, "bottom_mlp") : [];
        var interaction = root.OptionalEnum("interaction", Interactions.Words, Interaction.Dot);
        var dcn = interaction == Interaction.Dcn ? ReadDcn(root.RequireMap("dcn")) : null;
        var strayDcn = interaction != Interaction.Dcn && root.Has("dcn");
        int[] top = interaction != Interaction.NegativeSampling || root.Has("top_mlp") ? ReadLayers(root, "top_mlp") : [];
        var optimizer = root.OptionalEnum("optimizer", Optimizers.Words, Optimizer.Sgd);
        var precision = ReadPrecision(root.OptionalMap("precision"));
        var sequenceLayers = ReadSequenceLayers(root);
        var tsl = root.OptionalMap("tsl") is { } tslMap ? ReadTsl(tslMap) : null;
        ShardingScheme? defaultScheme = root.Has("default_scheme") ? root.RequireEnum("default_scheme", ShardingSchemes.Words) : null;
        string? stack = root.Has("stack") ? root.RequireEnum("stack", StackWords) : null;
        var tables = ReadTables(root, "tables");
        root.EnsureNoUnknownKeys();

        if (denseFeatures == 0 && bottom.Length > 0)
            throw root.Error("bottom_mlp", "a bottom MLP needs dense features, but dense_features is 0");
        if (strayDcn)
            throw root.Error("dcn", $"cross layers are only used with interaction: dcn (interaction is {interaction.Name()})");
        if (interaction == Interaction.NegativeSampling && top.Length > 0)
            throw root.Error("top_mlp", "negative_sampling scores the candidates directly and has no top MLP; remove top_mlp");

        var workload = new DlrmWorkload(name, source, batch, denseFeatures, bottom, interaction, top, optimizer, precision,
            tables.Select(t => t.Table).ToList())
        {
            Dcn = dcn,
            SequenceLayers = sequenceLayers,
            Tsl = tsl,
            DefaultScheme = defaultScheme,
            Stack = stack,
        };
        CheckSequences(root, workload, tables);
        CheckInteraction(root, workload, tables);
        CheckDenseSize(root, workload);
        return workload;
    }

    /// <summary>
    /// Largest dense part accepted, in parameters (4 PB of fp32 weights, beyond any cluster). Layer widths alone do
    /// not bound it (a full-rank DCN over a 2^30-wide interaction, or thousands of MLP layers), and past it the long
    /// sums of parameters, bytes and optimizer state would overflow.
    /// </summary>
    public const double MaxDenseParameters = 1e15;

    private static void CheckDenseSize(YamlMap root, DlrmWorkload w)
    {
        var total = w.DenseOperators.Sum(o => (double)o.Op.Parameters);
        if (total > MaxDenseParameters)
            throw root.Error(w.Interaction == Interaction.Dcn ? "dcn" : root.Has("top_mlp") ? "top_mlp" : "tables",
                $"the dense layers hold {total:0.###e+0} parameters, more than the {MaxDenseParameters:0e+0} Sim accepts");
    }

    // ---- whole-model checks ----------------------------------------------------------------------

    private static void CheckSequences(YamlMap root, DlrmWorkload w, List<Parsed> tables)
    {
        if (w.Tsl is { } tsl)
        {
            if (w.SequenceLayers.Count > 0)
                throw root.Error("sequence_layers", "a model has either sequence_layers or a tsl, not both");
            var steps = tsl.History + 1;
            foreach (var p in tables)
            {
                if (p.Table.Sequence is not { } s)
                    throw p.Map.Error(p.Node, p.Map.FieldPath("sequence"),
                        $"the tsl runs the tower once per time step, so every table needs sequence: {{length: {steps}}} (history {tsl.History} + the candidate)");
                if (s.Length != steps || s.Distribution != LengthDistribution.Fixed)
                    throw p.Map.Error("sequence", $"the tsl needs a fixed length of {steps} steps (history {tsl.History} + the candidate), found {s.Describe()}");
            }
            return;
        }
        var sequenceTables = tables.Where(p => p.Table.IsSequence).ToList();
        if (sequenceTables.Count > 0 && w.SequenceLayers.Count == 0)
            throw sequenceTables[0].Map.Error("sequence", "a sequence feature needs sequence_layers (conv1d, lstm) or a tsl to consume its steps");
        if (sequenceTables.Count == 0 && w.SequenceLayers.Count > 0)
            throw root.Error("sequence_layers", "no table has a sequence for these layers to read; give a table sequence: {length: L}");
        if (sequenceTables.Count == 0) return;
        var length = sequenceTables[0].Table.Sequence!.Length;
        foreach (var p in sequenceTables)
            if (p.Table.Sequence!.Length != length)
                throw p.Map.Error("sequence", $"sequence features read by the same layers need the same (padded) length: {length} in '{sequenceTables[0].Table.Name}', {p.Table.Sequence.Length} here");
        var layers = root.RequireList("sequence_layers");
        for (var j = 0; j < w.SequenceLayers.Count; j++)
        {
            var s = w.SequenceLayers[j];
            if (s.Kind == SequenceLayerKind.Conv1d)
            {
                if (s.Width > length)
                    throw root.AsMap(layers[j], $"sequence_layers[{j}]").Error("width", $"a window of {s.Width} steps is longer than the {length}-step sequence it reads");
                length = length - s.Width + 1;
            }
        }
    }

    private static void CheckInteraction(YamlMap root, DlrmWorkload w, List<Parsed> tables)
    {
        foreach (var p in tables)
        {
            if (p.Table.NegativeSamples > 0 && w.Interaction != Interaction.NegativeSampling)
                throw p.Map.Error("negative_samples", $"negative samples are scored by interaction: negative_sampling (interaction is {w.Interaction.Name()})");
            if (p.Table.NegativeSamples > 0 && p.Table.IsSequence)
                throw p.Map.Error("negative_samples", "a table with negative samples cannot also be a sequence feature");
        }
        switch (w.Interaction)
        {
            case Interaction.Dot:
                if (!w.HasBottomMlp)
                    throw root.Error("bottom_mlp", "the dot interaction needs a bottom MLP (its output is one of the dotted vectors); use interaction: concat or dcn without one");
                var d = w.BottomMlp[^1];
                foreach (var p in tables)
                {
                    if (w.Tsl is null && p.Table.IsSequence) continue;
                    if (p.Table.Dim != d)
                        throw root.Error(p.Node, $"tables[{p.Index}].dim",
                            $"dot interaction needs every table's dim to equal the bottom MLP's last width ({d}), found {p.Table.Dim}");
                }
                if (w.SequenceLayers.Count > 0 && w.SequenceEncoderDim != d)
                    throw root.Error("sequence_layers", $"dot interaction needs the sequence layers' output ({w.SequenceEncoderDim}) to equal the bottom MLP's last width ({d})");
                long f = w.InteractionVectors;
                if (d + f * (f - 1) / 2 > MaxInteractionOutputs)
                    throw root.Error("tables", $"a dot interaction over {f} vectors has {d + f * (f - 1) / 2} outputs, more than {MaxInteractionOutputs}; use interaction: dcn or fewer tables");
                break;
            case Interaction.Dcn or Interaction.Concat:
                if (w.InteractionVectors == 0)
                    throw root.Error("tables", $"the {w.Interaction.Name()} interaction has no input vectors (no bottom MLP, pooled table or sequence layer)");
                if (w.InteractionWidth > MaxInteractionOutputs)
                    throw root.Error("tables", $"the concatenated interaction input is {w.InteractionWidth} wide, more than {MaxInteractionOutputs}");
                break;
            case Interaction.NegativeSampling:
                var negatives = tables.Where(p => p.Table.NegativeSamples > 0).ToList();
                if (negatives.Count == 0)
                    throw root.Error("interaction", "negative_sampling needs a table with negative_samples (the output table the context is scored against)");
                if (w.InteractionVectors == 0)
                    throw root.Error("tables", "negative_sampling needs at least one pooled table (or a bottom MLP) to form the context vector");
                var dim = negatives[0].Table.Dim;
                if (w.HasBottomMlp && w.BottomMlp[^1] != dim)
                    throw root.Error("bottom_mlp", $"negative_sampling sums vectors of one dim: the bottom MLP ends in {w.BottomMlp[^1]}, the output table '{negatives[0].Table.Name}' has dim {dim}");
                if (w.SequenceLayers.Count > 0 && w.SequenceEncoderDim != dim)
                    throw root.Error("sequence_layers", $"negative_sampling sums vectors of one dim: the sequence layers give {w.SequenceEncoderDim}, the output table '{negatives[0].Table.Name}' has dim {dim}");
                foreach (var p in tables)
                    if (!p.Table.IsSequence && p.Table.Dim != dim)
                        throw root.Error(p.Node, $"tables[{p.Index}].dim", $"negative_sampling sums and scores vectors of one dim ({dim}, of '{negatives[0].Table.Name}'), found {p.Table.Dim}");
                break;
        }
    }

    // ---- blocks -----------------------------------------------------------------------------------

    private static int[] ReadLayers(YamlMap root, string key) =>
        root.RequireLongList(key, 1, 1 << 24).Select(v => (int)v).ToArray();

    private static DcnSpec ReadDcn(YamlMap m)
    {
        var d = new DcnSpec(m.RequireInt("layers", 1, 1024), m.OptionalInt("low_rank", 0, 0, 1 << 24));
        m.EnsureNoUnknownKeys();
        return d;
    }

    private static IReadOnlyList<SequenceLayerSpec> ReadSequenceLayers(YamlMap root)
    {
        if (root.OptionalList("sequence_layers") is not { } nodes) return [];
        var list = new List<SequenceLayerSpec>(nodes.Count);
        for (var j = 0; j < nodes.Count; j++)
        {
            var m = root.AsMap(nodes[j], $"sequence_layers[{j}]");
            var kind = m.RequireEnum("kind", LayerWords);
            list.Add(kind == SequenceLayerKind.Conv1d
                ? SequenceLayerSpec.Conv1d(m.RequireInt("filters", 1, 1 << 20), m.RequireInt("width", 1, 1 << 16))
                : SequenceLayerSpec.Lstm(m.RequireInt("hidden", 1, 1 << 20), m.OptionalInt("layers", 1, 1, 64)));
            m.EnsureNoUnknownKeys();
        }
        return list;
    }

    private static TslSpec ReadTsl(YamlMap m)
    {
        var history = m.RequireInt("history", 1, 100_000);
        var inner = m.OptionalEnum("inner", TslInners.Words, TslInner.Psd);
        var attention = (m.OptionalLongList("attention_mlp", 1, 1 << 24, allowEmpty: true) ?? []).Select(v => (int)v).ToArray();
        var output = m.RequireLongList("output_mlp", 1, 1 << 24).Select(v => (int)v).ToArray();
        var heads = m.OptionalInt("heads", 1, 1, 64);
        m.EnsureNoUnknownKeys();
        return new TslSpec(history, inner, attention, output, heads);
    }

    private static Precision ReadPrecision(YamlMap? m)
    {
        if (m is null) return Precision.Fp32;
        var p = new Precision(
            m.OptionalEnum("compute", DTypes.Words, DType.Fp32),
            m.OptionalEnum("all_to_all_forward", DTypes.Words, DType.Fp32),
            m.OptionalEnum("all_to_all_backward", DTypes.Words, DType.Fp32),
            m.OptionalEnum("all_reduce", DTypes.Words, DType.Fp32),
            m.OptionalEnum("index", DTypes.Words, DType.Int64));
        if (p.Index is not (DType.Int32 or DType.Int64))
            throw m.Error("index", "indices must be int32 or int64");
        foreach (var key in new[] { "all_to_all_forward", "all_to_all_backward", "all_reduce" })
        {
            var dt = m.OptionalEnum(key, DTypes.Words, DType.Fp32);
            if (dt is DType.Int32 or DType.Int64 or DType.Tf32)
                throw m.Error(key, $"{dt.Name()} is not a communication precision; use fp32, fp16, bf16, fp8 or int8");
        }
        m.EnsureNoUnknownKeys();
        return p;
    }

    // ---- tables -----------------------------------------------------------------------------------

    private sealed record Parsed(EmbeddingTable Table, YamlMap Map, YamlNode Node, int Index);

    private static List<Parsed> ReadTables(YamlMap root, string key)
    {
        var list = new List<Parsed>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var nodes = root.RequireList(key);
        double totalBytes = 0;
        for (var i = 0; i < nodes.Count; i++)
        {
            var m = root.AsMap(nodes[i], $"{key}[{i}]");
            var name = m.RequireString("name");
            var rows = m.RequireLong("rows", 1, MaxRows);
            var dim = m.RequireInt("dim", 1, 1 << 16);
            var pooling = m.RequireDouble("pooling_factor", 0, minExclusive: true, max: 1e6);
            var dtype = m.OptionalEnum("dtype", DTypes.Words, DType.Fp32);
            if (dtype is DType.Int32 or DType.Int64 or DType.Tf32)
                throw m.Error("dtype", $"{dtype.Name()} is not an embedding storage type; use fp32, fp16, bf16, fp8 or int8");
            var scaleBias = m.OptionalEnum("scale_bias_dtype", ScaleBiasWords, DType.Fp32);
            if (m.Has("scale_bias_dtype") && dtype != DType.Int8)
                throw m.Error("scale_bias_dtype", $"only int8 (row-wise quantised) tables keep a scale and a bias per row; this table is {dtype.Name()}");
            var access = ReadAccess(m);
            var sequence = m.OptionalMap("sequence") is { } sm ? ReadSequence(sm) : null;
            var negatives = m.OptionalInt("negative_samples", 0, 0, 1_000_000);
            var count = m.OptionalLong("count", 1, 1, MaxTables);
            m.EnsureNoUnknownKeys();

            var overhead = dtype == DType.Int8 ? 2 * scaleBias.Bytes() : 0;
            var bytes = (double)rows * dim * dtype.Bytes() + (double)rows * overhead;
            if (bytes > MaxTableBytes)
                throw m.Error("rows", $"{rows} rows x {dim} x {dtype.Name()} is {bytes:0.###e+0} bytes, more than the {MaxTableBytes:0e+0}-byte limit for one table; split it into several tables");
            totalBytes += bytes * count;
            if (totalBytes > 1e18)
                throw m.Error("count", "the tables add up to more than 10^18 bytes");
            if (list.Count + count > MaxTables)
                throw m.Error("count", $"more than {MaxTables} tables in total");
            var table = new EmbeddingTable("", rows, dim, pooling, dtype)
            {
                Access = access, Sequence = sequence, NegativeSamples = negatives, ScaleBiasDType = scaleBias,
            };
            for (var c = 0; c < count; c++)
            {
                var tableName = count == 1 && !m.Has("count") ? name : $"{name}_{c}";
                if (!names.Add(tableName))
                    throw m.Error("name", $"table name '{tableName}' is used twice");
                list.Add(new Parsed(table with { Name = tableName }, m, nodes[i], i));
            }
        }
        return list;
    }

    private static AccessSkew ReadAccess(YamlMap table)
    {
        if (table.TryGet("access") is not { } node) return AccessSkew.Uniform;
        var field = table.FieldPath("access");
        if (node is YamlScalarNode s)
        {
            if (s.Value == "uniform") return AccessSkew.Uniform;
            throw table.Error(node, field, $"expected uniform, {{zipf: S}} or {{hot_fraction: F, hot_share: H}}, found '{s.Value}'");
        }
        var m = table.AsMap(node, field);
        AccessSkew skew;
        if (m.Has("zipf"))
        {
            if (m.Has("hot_fraction") || m.Has("hot_share"))
                throw m.Error("zipf", "give either zipf or hot_fraction and hot_share, not both");
            skew = AccessSkew.Zipf(m.RequireDouble("zipf", 0, max: 10));
        }
        else if (m.Has("hot_fraction") || m.Has("hot_share"))
        {
            var fraction = m.RequireDouble("hot_fraction", 0, minExclusive: true, max: 1);
            if (fraction >= 1) throw m.Error("hot_fraction", "must be less than 1 (a fraction of the rows)");
            var share = m.RequireDouble("hot_share", 0, minExclusive: true, max: 1);
            if (share < fraction)
                throw m.Error("hot_share", $"the hot rows must get at least their share of the lookups: hot_share {share} < hot_fraction {fraction}");
            skew = AccessSkew.HotSet(fraction, share);
        }
        else throw table.Error(node, field, "expected zipf: S, or hot_fraction and hot_share");
        m.EnsureNoUnknownKeys();
        return skew;
    }

    private static SequenceFeature ReadSequence(YamlMap m)
    {
        var length = m.RequireInt("length", 1, SequenceFeature.MaxLength);
        var dist = m.OptionalEnum("length_distribution", LengthWords, LengthDistribution.Fixed);
        var min = 1;
        double exponent = 0;
        if (dist == LengthDistribution.Fixed)
        {
            if (m.Has("min_length")) throw m.Error("min_length", "a fixed length has no minimum; set length_distribution: uniform or zipf");
            if (m.Has("zipf")) throw m.Error("zipf", "an exponent needs length_distribution: zipf");
        }
        else
        {
            min = m.OptionalInt("min_length", 1, 1, SequenceFeature.MaxLength);
            if (min > length) throw m.Error("min_length", $"must be at most length ({length}), found {min}");
            if (dist == LengthDistribution.Zipf) exponent = m.OptionalDouble("zipf", 1.0, 0, max: 10);
            else if (m.Has("zipf")) throw m.Error("zipf", "an exponent needs length_distribution: zipf");
        }
        m.EnsureNoUnknownKeys();
        return new SequenceFeature(length, dist, min, exponent);
    }
}
