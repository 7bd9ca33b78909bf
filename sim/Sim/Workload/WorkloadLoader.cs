using Sim.Config;

namespace Sim.Workload;

/// <summary>Reads a workload file. A table entry with `count: N` stands for N tables named NAME_0..NAME_{N-1}.</summary>
public static class WorkloadLoader
{
    public const long MaxTables = 10_000_000;

    public static DlrmWorkload Load(string path) => Read(YamlDocument.LoadFile(path));
    public static DlrmWorkload Parse(string text, string fileName) => Read(YamlDocument.Parse(text, fileName));

    private static DlrmWorkload Read(YamlMap root)
    {
        var name = root.RequireString("name");
        var source = root.RequireString("source");
        root.OptionalString("description");
        var batch = root.RequireLong("batch_size", 1, 1L << 40);
        var denseFeatures = root.RequireInt("dense_features", 1, 1 << 24);
        var bottom = ReadLayers(root, "bottom_mlp");
        var interaction = root.OptionalEnum("interaction", Interactions.Words, Interaction.Dot);
        var top = ReadLayers(root, "top_mlp");
        var optimizer = root.OptionalEnum("optimizer", Optimizers.Words, Optimizer.Sgd);
        var precision = ReadPrecision(root.OptionalMap("precision"));
        var tables = ReadTables(root, "tables");
        root.EnsureNoUnknownKeys();

        if (interaction == Interaction.Dot)
        {
            for (var i = 0; i < tables.Count; i++)
            {
                if (tables[i].Table.Dim != bottom[^1])
                    throw root.Error(tables[i].Node, $"tables[{tables[i].Index}].dim",
                        $"dot interaction needs every table's dim to equal the bottom MLP's last width ({bottom[^1]}), found {tables[i].Table.Dim}");
            }
        }
        return new DlrmWorkload(name, source, batch, denseFeatures, bottom, interaction, top, optimizer, precision,
            tables.Select(t => t.Table).ToList());
    }

    private static int[] ReadLayers(YamlMap root, string key) =>
        root.RequireLongList(key, 1, 1 << 24).Select(v => (int)v).ToArray();

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

    private sealed record Parsed(EmbeddingTable Table, YamlDotNet.RepresentationModel.YamlNode Node, int Index);

    private static List<Parsed> ReadTables(YamlMap root, string key)
    {
        var list = new List<Parsed>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var nodes = root.RequireList(key);
        for (var i = 0; i < nodes.Count; i++)
        {
            var m = root.AsMap(nodes[i], $"{key}[{i}]");
            var name = m.RequireString("name");
            var rows = m.RequireLong("rows", 1, 1L << 42);
            var dim = m.RequireInt("dim", 1, 1 << 16);
            var pooling = m.RequireDouble("pooling_factor", 0, minExclusive: true, max: 1e6);
            var dtype = m.OptionalEnum("dtype", DTypes.Words, DType.Fp32);
            if (dtype is DType.Int32 or DType.Int64 or DType.Tf32)
                throw m.Error("dtype", $"{dtype.Name()} is not an embedding storage type; use fp32, fp16, bf16, fp8 or int8");
            var count = m.OptionalLong("count", 1, 1, MaxTables);
            m.EnsureNoUnknownKeys();
            if (list.Count + count > MaxTables)
                throw m.Error("count", $"more than {MaxTables} tables in total");
            for (var c = 0; c < count; c++)
            {
                var tableName = count == 1 && !m.Has("count") ? name : $"{name}_{c}";
                if (!names.Add(tableName))
                    throw m.Error("name", $"table name '{tableName}' is used twice");
                list.Add(new Parsed(new EmbeddingTable(tableName, rows, dim, pooling, dtype), nodes[i], i));
            }
        }
        return list;
    }
}
