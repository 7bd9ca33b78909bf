using System.Text.Json;
using System.Text.Json.Nodes;
using Sim.Config;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Sharding;

/// <summary>
/// TorchRec's sharding plan for one embedding module, as JSON: per table its `sharding_type`, `compute_kernel`,
/// `ranks` and `sharding_spec` (shards with `shard_offsets` [row, col], `shard_sizes` [rows, cols] and
/// `placement` "rank:R/cuda:L"), plus `cache_params.load_factor` for UVM caching. This is the layout of
/// TorchRec's ParameterSharding objects; dump them to JSON with these keys to evaluate a TorchRec plan in Sim.
/// </summary>
internal static class TorchRecPlan
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static readonly Dictionary<ShardingScheme, string> TypeNames = new()
    {
        [ShardingScheme.TableWise] = "table_wise", [ShardingScheme.RowWise] = "row_wise", [ShardingScheme.ColumnWise] = "column_wise",
        [ShardingScheme.DataParallel] = "data_parallel", [ShardingScheme.TableRowWise] = "table_row_wise", [ShardingScheme.TableColumnWise] = "table_column_wise",
    };

    private static readonly Dictionary<MemoryTier, string> KernelNames = new()
    {
        [MemoryTier.Hbm] = "fused", [MemoryTier.Uvm] = "fused_uvm", [MemoryTier.UvmCaching] = "fused_uvm_caching",
        // TorchRec's SSD-backed kernel (FBGEMM's SSDTableBatchedEmbeddingBags); its cache sits in HBM, Sim's in DDR.
        [MemoryTier.Ssd] = "key_value",
    };

    public static string Export(ShardingPlan plan, Cluster cluster)
    {
        var tables = new JsonObject();
        foreach (var tp in plan.Tables)
        {
            var shards = new JsonArray();
            foreach (var s in tp.Shards)
                shards.Add(new JsonObject
                {
                    ["shard_offsets"] = new JsonArray(s.RowOffset, (long)s.ColumnOffset),
                    ["shard_sizes"] = new JsonArray(s.Rows, (long)s.Columns),
                    ["placement"] = $"rank:{s.Rank}/cuda:{cluster.LocalIndex(s.Rank)}",
                });
            var entry = new JsonObject
            {
                ["sharding_type"] = TypeNames[tp.Scheme],
                ["compute_kernel"] = tp.Scheme == ShardingScheme.DataParallel ? "dense" : KernelNames[tp.Tier],
                ["ranks"] = new JsonArray(tp.Shards.Select(s => (JsonNode)s.Rank).ToArray()),
                ["sharding_spec"] = new JsonObject { ["shards"] = shards },
            };
            if (tp.Tier.IsCached()) entry["cache_params"] = new JsonObject { ["load_factor"] = tp.CacheFraction };
            tables[tp.Table.Name] = entry;
        }
        return new JsonObject { ["plan"] = plan.Name, ["world_size"] = cluster.WorldSize, ["tables"] = tables }.ToJsonString(Indented);
    }

    public static ShardingPlan Import(string path, DlrmWorkload workload, Cluster cluster)
    {
        var file = YamlDocument.DisplayName(path);
        if (!File.Exists(path)) throw new SimInputException(file, "", "file not found");
        // Duplicate keys are refused at their line and column, as in every JSON input.
        if (JsonInput.Parse(InputFile.ReadText(path, file), file) is not JsonObject root)
            throw new SimInputException(file, "", "expected a JSON object (a TorchRec plan: plan, world_size, tables)");
        KnownKeys(file, "", root, RootKeys);
        if (root["tables"] is not JsonObject tables) throw new SimInputException(file, "tables", "required object is missing");
        var byName = workload.Tables.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var plans = new Dictionary<string, TablePlan>(StringComparer.Ordinal);
        foreach (var (name, node) in tables)
        {
            var field = $"tables.{name}";
            if (!byName.TryGetValue(name, out var table)) throw new SimInputException(file, field, $"workload '{workload.Name}' has no table named '{name}'");
            if (node is not JsonObject o) throw new SimInputException(file, field, "expected an object");
            plans[name] = ReadTable(file, field, o, table, cluster);
        }
        var missing = workload.Tables.FirstOrDefault(t => !plans.ContainsKey(t.Name));
        if (missing is not null) throw new SimInputException(file, "tables", $"table '{missing.Name}' has no entry");
        var planName = root["plan"] is JsonValue v && v.TryGetValue<string>(out var n) ? n : "torchrec";
        return new ShardingPlan(planName, workload.Tables.Select(t => plans[t.Name]).ToList());
    }

    // The keys Sim reads, and ParameterSharding's others that it carries no meaning for (TorchRec writes them); any other
    // key is a typo, refused with "did you mean".
    private static readonly string[] RootKeys = ["plan", "world_size", "tables"];
    private static readonly string[] TableKeys = ["sharding_type", "compute_kernel", "ranks", "sharding_spec", "cache_params",
        "enforce_hbm", "stochastic_rounding", "bounds_check_mode", "output_dtype", "key_value_params"];
    private static readonly string[] SpecKeys = ["shards"];
    private static readonly string[] ShardKeys = ["shard_offsets", "shard_sizes", "placement"];

    private static void KnownKeys(string file, string field, JsonObject o, string[] known)
    {
        foreach (var (key, _) in o)
        {
            if (known.Contains(key)) continue;
            var near = Spelling.Nearest(known, key);
            var at = field.Length == 0 ? key : $"{field}.{key}";
            throw new SimInputException(file, at, "unknown field" + (near is not null ? $"; did you mean '{near}'?" : $" (known here: {string.Join(", ", known)})"));
        }
    }

    private static TablePlan ReadTable(string file, string field, JsonObject o, EmbeddingTable table, Cluster cluster)
    {
        KnownKeys(file, field, o, TableKeys);
        if (o["sharding_spec"] is JsonObject specObject) KnownKeys(file, $"{field}.sharding_spec", specObject, SpecKeys);
        if (o["sharding_spec"] is JsonObject specOf && specOf["shards"] is JsonArray shardList)
            for (var i = 0; i < shardList.Count; i++)
                if (shardList[i] is JsonObject shard) KnownKeys(file, $"{field}.sharding_spec.shards[{i}]", shard, ShardKeys);
        string Str(string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s
            : throw new SimInputException(file, $"{field}.{key}", "required string is missing");
        var typeName = Str("sharding_type");
        var scheme = TypeNames.FirstOrDefault(kv => kv.Value == typeName);
        if (scheme.Value is null) throw new SimInputException(file, $"{field}.sharding_type", $"unknown value '{typeName}'; expected one of: {string.Join(", ", TypeNames.Values)}");
        var kernel = Str("compute_kernel");
        var tier = kernel == "dense" ? MemoryTier.Hbm : KernelNames.FirstOrDefault(kv => kv.Value == kernel) is { Value: not null } k ? k.Key
            : throw new SimInputException(file, $"{field}.compute_kernel", $"unknown value '{kernel}'; expected one of: dense, {string.Join(", ", KernelNames.Values)}");
        if (tier == MemoryTier.Ssd && cluster.Host.Ssd is null)
            throw new SimInputException(file, $"{field}.compute_kernel", "key_value (the SSD tier) needs an SSD in the topology (host.ssd), and this one has none");
        var cache = MemoryTiers.DefaultCacheFraction;
        if (o["cache_params"] is { } cacheParams
            && (cacheParams is not JsonObject cp || cp["load_factor"] is { } lf && (lf is not JsonValue v || !v.TryGetValue(out cache) || !(cache > 0 && cache <= 1))))
            throw new SimInputException(file, $"{field}.cache_params.load_factor", "expected a number in (0, 1]");
        if (o["sharding_spec"] is not JsonObject spec || spec["shards"] is not JsonArray specs || specs.Count == 0)
            throw new SimInputException(file, $"{field}.sharding_spec.shards", "required list is missing or empty");
        var shards = new List<Shard>();
        for (var i = 0; i < specs.Count; i++)
        {
            var f = $"{field}.sharding_spec.shards[{i}]";
            try
            {
                var offsets = specs[i]!["shard_offsets"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                var sizes = specs[i]!["shard_sizes"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
                var placement = specs[i]!["placement"]!.GetValue<string>();
                var rankText = placement.Split('/')[0];
                if (!rankText.StartsWith("rank:", StringComparison.Ordinal) || !int.TryParse(rankText[5..], out var rank))
                    throw new SimInputException(file, $"{f}.placement", $"expected 'rank:R/cuda:L', found '{placement}'");
                if (rank < 0 || rank >= cluster.WorldSize)
                    throw new SimInputException(file, $"{f}.placement", $"rank {rank} does not exist: the cluster has {cluster.WorldSize} GPUs");
                if (offsets.Length != 2 || sizes.Length != 2 || offsets.Any(x => x < 0) || sizes.Any(x => x <= 0)
                    || offsets[0] > table.Rows - sizes[0] || offsets[1] > table.Dim - sizes[1]) // (no overflow: all non-negative)
                    throw new SimInputException(file, f, $"shard [{string.Join(",", offsets)}] + [{string.Join(",", sizes)}] does not lie inside table '{table.Name}' ({table.Rows} x {table.Dim})");
                shards.Add(new Shard(rank, offsets[0], sizes[0], (int)offsets[1], (int)sizes[1]));
            }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
            {
                throw new SimInputException(file, f, "expected shard_offsets [row, col], shard_sizes [rows, cols] and placement");
            }
        }
        var tp = new TablePlan(table, scheme.Key, shards).InTier(tier, cache);
        CheckCoverage(file, field, tp);
        // Sim keeps shards in offset order, so that a plan written back as YAML (ranks + splits) is the same plan.
        var ordered = tp.Shards.OrderBy(s => s.RowOffset).ThenBy(s => s.ColumnOffset).ThenBy(s => s.Rank).ToArray();
        return tp with { Shards = ordered };
    }

    /// <summary>Sharded schemes must cover every cell exactly once; data-parallel replicas must each be whole.</summary>
    private static void CheckCoverage(string file, string field, TablePlan tp)
    {
        var t = tp.Table;
        if (tp.Scheme == ShardingScheme.DataParallel)
        {
            if (tp.Shards.Any(s => s.Rows != t.Rows || s.Columns != t.Dim))
                throw new SimInputException(file, field, "data_parallel shards must each hold the whole table");
            return;
        }
        var cells = tp.Shards.Sum(s => (double)s.Rows * s.Columns);
        var sorted = tp.Shards.OrderBy(s => s.RowOffset).ThenBy(s => s.ColumnOffset).ToArray();
        var overlap = false;
        for (var i = 0; i < sorted.Length && !overlap; i++)
            for (var j = i + 1; j < sorted.Length && !overlap; j++)
                overlap = sorted[i].RowOffset < sorted[j].RowOffset + sorted[j].Rows && sorted[j].RowOffset < sorted[i].RowOffset + sorted[i].Rows
                       && sorted[i].ColumnOffset < sorted[j].ColumnOffset + sorted[j].Columns && sorted[j].ColumnOffset < sorted[i].ColumnOffset + sorted[i].Columns;
        if (overlap || cells != (double)t.Rows * t.Dim)
            throw new SimInputException(file, field, $"shards must cover table '{t.Name}' ({t.Rows} x {t.Dim}) exactly once");
    }
}
