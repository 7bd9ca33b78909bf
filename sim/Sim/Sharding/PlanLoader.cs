using System.Globalization;
using System.Text;
using Sim.Config;
using Sim.Topology;
using Sim.Workload;

namespace Sim.Sharding;

/// <summary>
/// Reads a plan file against a workload and a cluster: every table exactly once, ranks that exist,
/// shard counts the table can take. Memory is checked separately (<see cref="MemoryModel"/>).
/// </summary>
public static class PlanLoader
{
    public static ShardingPlan Load(string path, DlrmWorkload workload, Cluster cluster) =>
        Read(YamlDocument.LoadFile(path), workload, cluster);

    public static ShardingPlan Parse(string text, string fileName, DlrmWorkload workload, Cluster cluster) =>
        Read(YamlDocument.Parse(text, fileName), workload, cluster);

    private static ShardingPlan Read(YamlMap root, DlrmWorkload workload, Cluster cluster)
    {
        var name = root.OptionalString("name") ?? "plan";
        root.OptionalString("description");
        var tablesMap = root.RequireMap("tables");
        var schedule = ReadSchedule(root.OptionalMap("schedule"));
        root.EnsureNoUnknownKeys();

        var byName = workload.Tables.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var plans = new Dictionary<string, TablePlan>(StringComparer.Ordinal);
        foreach (var (tableName, node) in tablesMap.Entries())
        {
            var field = tablesMap.FieldPath(tableName);
            if (!byName.TryGetValue(tableName, out var table))
                throw tablesMap.Error(node, field, $"workload '{workload.Name}' has no table named '{tableName}'");
            var m = tablesMap.AsMap(node, field);
            plans[tableName] = ReadTable(m, table, cluster);
        }
        var missing = workload.Tables.FirstOrDefault(t => !plans.ContainsKey(t.Name));
        if (missing is not null)
            throw tablesMap.Error(tablesMap.Node, tablesMap.Path,
                $"table '{missing.Name}' of workload '{workload.Name}' has no entry ({workload.Tables.Count - plans.Count} of {workload.Tables.Count} tables missing)");
        return new ShardingPlan(name, workload.Tables.Select(t => plans[t.Name]).ToList(), schedule);
    }

    private static Schedule? ReadSchedule(YamlMap? m)
    {
        if (m is null) return null;
        var s = new Schedule(m.OptionalInt("all_reduce_buckets", 0, 0, 1024), m.OptionalBool("pipeline_embeddings", false));
        m.EnsureNoUnknownKeys();
        return s;
    }

    private static TablePlan ReadTable(YamlMap m, EmbeddingTable table, Cluster cluster)
    {
        var scheme = m.RequireEnum("scheme", ShardingSchemes.Words);
        var world = cluster.WorldSize;
        var ranks = scheme == ShardingScheme.DataParallel && !m.Has("ranks")
            ? Enumerable.Range(0, world).Select(i => (long)i).ToArray()
            : m.RequireLongList("ranks", 0, long.MaxValue);
        var shardCount = m.OptionalInt("shards", ranks.Length, 1, 1 << 20);
        var splits = m.OptionalLongList("splits", 1, long.MaxValue);
        var tier = m.OptionalEnum("memory", MemoryTiers.Words, MemoryTier.Hbm);
        // An HBM cache of no rows is plain UVM; a DDR cache of no rows is a valid SSD placement (every lookup reads the SSD).
        var cacheFraction = m.OptionalDouble("cache_fraction", MemoryTiers.DefaultCacheFraction, 0, minExclusive: tier != MemoryTier.Ssd, max: 1);
        if (m.Has("cache_fraction") && !tier.IsCached())
            throw m.Error("cache_fraction", "only applies to memory: uvm_caching or ssd");
        if (tier == MemoryTier.Ssd && cluster.Host.Ssd is null)
            throw m.Error("memory", "ssd needs an SSD in the topology (host.ssd), and this one has none");
        if (tier != MemoryTier.Hbm && scheme == ShardingScheme.DataParallel)
            throw m.Error("memory", "data_parallel tables live in HBM (every rank keeps a full replica and a dense gradient)");
        m.EnsureNoUnknownKeys();

        for (var i = 0; i < ranks.Length; i++)
            if (ranks[i] >= world)
                throw m.Error(m.RequireList("ranks")[i], m.FieldPath($"ranks[{i}]"),
                    $"rank {ranks[i]} does not exist: the cluster has {world} GPUs (ranks 0..{world - 1})");
        if (shardCount != ranks.Length)
            throw m.Error("shards", $"shards is {shardCount} but {ranks.Length} ranks are listed; list one rank per shard");
        if (ranks.Distinct().Count() != ranks.Length)
            throw m.Error("ranks", "a rank is listed twice; each shard needs its own rank");
        switch (scheme)
        {
            case ShardingScheme.TableWise when ranks.Length != 1:
                throw m.Error("ranks", $"table_wise places the whole table on one rank, found {ranks.Length}");
            case ShardingScheme.RowWise when table.Rows < ranks.Length:
                throw m.Error("ranks", $"row_wise over {ranks.Length} ranks needs at least {ranks.Length} rows, table '{table.Name}' has {table.Rows}");
            case ShardingScheme.TableRowWise or ShardingScheme.TableColumnWise when ranks.Select(r => cluster.NodeOf((int)r)).Distinct().Count() > 1:
                throw m.Error("ranks", $"{scheme.Name()} keeps a table on one node, but ranks span nodes {string.Join(", ", ranks.Select(r => cluster.NodeOf((int)r)).Distinct())}");
            case ShardingScheme.TableRowWise when table.Rows < ranks.Length:
                throw m.Error("ranks", $"table_row_wise over {ranks.Length} ranks needs at least {ranks.Length} rows, table '{table.Name}' has {table.Rows}");
            case ShardingScheme.ColumnWise or ShardingScheme.TableColumnWise when table.Dim < ranks.Length:
                throw m.Error("ranks", $"column_wise over {ranks.Length} ranks needs dim of at least {ranks.Length}, table '{table.Name}' has {table.Dim}");
        }
        if (splits is not null)
        {
            var whole = scheme.SplitsRows() ? table.Rows : scheme.SplitsColumns() ? table.Dim : -1;
            if (whole < 0) throw m.Error("splits", "only row- or column-split schemes take splits");
            var sum = splits.Sum(x => (decimal)x); // (a long sum of huge splits would overflow)
            if (splits.Length != ranks.Length || sum != whole)
                throw m.Error("splits", $"expected {ranks.Length} sizes (one per rank) adding up to {whole}, found {splits.Length} adding up to {sum}");
        }
        return TablePlan.Create(table, scheme, ranks.Select(r => (int)r).ToArray(), splits).InTier(tier, cacheFraction);
    }

    /// <summary>Writes a plan in the format <see cref="Load"/> reads (one flow mapping per table).</summary>
    public static string ToYaml(ShardingPlan plan)
    {
        var sb = new StringBuilder();
        sb.Append("name: ").Append(Quote(plan.Name)).Append('\n');
        if (plan.Schedule is { } sch)
            sb.Append("schedule: {all_reduce_buckets: ").Append(sch.AllReduceBuckets.ToString(CultureInfo.InvariantCulture))
              .Append(", pipeline_embeddings: ").Append(sch.PipelineEmbeddings ? "true" : "false").Append("}\n");
        sb.Append("tables:\n");
        foreach (var t in plan.Tables)
        {
            sb.Append("  ").Append(Quote(t.Table.Name)).Append(": {scheme: ").Append(t.Scheme.Name())
              .Append(", ranks: [").Append(string.Join(", ", t.Ranks.Select(r => r.ToString(CultureInfo.InvariantCulture)))).Append(']');
            if (!t.HasEvenSplits) sb.Append(", splits: [").Append(string.Join(", ", t.Splits.Select(x => x.ToString(CultureInfo.InvariantCulture)))).Append(']');
            if (t.Tier != MemoryTier.Hbm) sb.Append(", memory: ").Append(t.Tier.Name());
            if (t.Tier.IsCached()) sb.Append(", cache_fraction: ").Append(t.CacheFraction.ToString("R", CultureInfo.InvariantCulture));
            sb.Append("}\n");
        }
        return sb.ToString();
    }

    private static string Quote(string s) =>
        System.Text.RegularExpressions.Regex.IsMatch(s, "^[A-Za-z_][A-Za-z0-9_.-]*$") && s is not ("true" or "false" or "null" or "yes" or "no") ? s : "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
