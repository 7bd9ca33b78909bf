using System.Globalization;
using System.Text;

namespace Sim.Harness.Tests;

/// <summary>Tiny scenarios (a handful of small tables) written as real files, so tests go through the same loaders as users.</summary>
internal static class TestScenarios
{
    public static string Topology(int gpus, double hbmBytes = 80e9) => $$"""
        name: test-{{gpus}}gpu
        source: "unit test"
        nodes: 1
        gpus_per_node: {{gpus}}
        gpu:
          model: TEST-GPU
          peak_flops_per_second: {fp32: 67e12, tf32: 494.7e12, fp16: 989.4e12, bf16: 989.4e12}
          hbm_bytes: {{hbmBytes.ToString("R", CultureInfo.InvariantCulture)}}
          hbm_bytes_per_second: 3.35e12
          source: "unit test"
        intra_node: {bytes_per_second: 450e9, latency_seconds: 3e-6, source: "unit test"}
        scale_out: {bytes_per_second: 50e9, latency_seconds: 5e-6, source: "unit test"}
        host: {ddr_bytes: 512e9, ddr_bytes_per_second: 200e9, source: "unit test"}
        """;

    /// <summary>
    /// Four small tables of uneven sizes (a row-wise split of 7 rows over 4 ranks is 2,2,2,1; a column-wise split
    /// of dim 6 over 4 ranks is 2,2,1,1), pooling factors that round to 3, 1, 2 and 2, few rows so that lookups
    /// collide, batch 16 (4 samples per rank on 4 ranks).
    /// </summary>
    public static string Workload(string optimizer, int batch = 16) => $$"""
        name: tiny-{{optimizer}}
        source: "unit test"
        batch_size: {{batch}}
        dense_features: 5
        bottom_mlp: [8, 6]
        interaction: dot
        top_mlp: [7, 4, 1]
        optimizer: {{optimizer}}
        tables:
          - {name: a, rows: 50, dim: 6, pooling_factor: 3}
          - {name: b, rows: 7,  dim: 6, pooling_factor: 1}
          - {name: c, rows: 13, dim: 6, pooling_factor: 2}
          - {name: d, rows: 30, dim: 6, pooling_factor: 2.4}
        """;

    public static readonly string[] TableNames = ["a", "b", "c", "d"];

    /// <summary>A plan as YAML: one (scheme, ranks) per table; ranks null means all ranks (data-parallel).</summary>
    public static string Plan(string name, params (string Scheme, int[]? Ranks)[] tables)
    {
        var sb = new StringBuilder($"name: {name}\ntables:\n");
        for (var i = 0; i < tables.Length; i++)
        {
            var (scheme, ranks) = tables[i];
            sb.Append("  ").Append(TableNames[i]).Append(": {scheme: ").Append(scheme);
            if (ranks is not null) sb.Append(", ranks: [").Append(string.Join(", ", ranks)).Append(']');
            sb.Append("}\n");
        }
        return sb.ToString();
    }

    /// <summary>The plans the equivalence tests run, for W ranks: every scheme on every table, and mixes.</summary>
    public static string PlanFor(string scheme, int w)
    {
        var all = Enumerable.Range(0, w).ToArray();
        var reversed = all.Reverse().ToArray();
        var last = w - 1;
        return scheme switch
        {
            // Uneven: rank 1 holds two tables, and with 4 ranks rank 2 holds none (an empty pooled block).
            "table_wise" => Plan("tw", ("table_wise", [1 % w]), ("table_wise", [0]), ("table_wise", [1 % w]), ("table_wise", [last])),
            // Shards on ranks listed out of order, so shard k is not on rank k.
            "row_wise" => Plan("rw", ("row_wise", reversed), ("row_wise", all), ("row_wise", reversed), ("row_wise", all)),
            "column_wise" => Plan("cw", ("column_wise", all), ("column_wise", reversed), ("column_wise", all), ("column_wise", reversed)),
            "data_parallel" => Plan("dp", ("data_parallel", null), ("data_parallel", null), ("data_parallel", null), ("data_parallel", null)),
            // Row-wise over a subset of ranks, table-wise, data-parallel, and row-wise over all.
            "mixed" => Plan("mixed", ("row_wise", [last, 0]), ("table_wise", [last]), ("data_parallel", null), ("row_wise", reversed)),
            // Every scheme at once, column-wise included (needs SGD, see the tests).
            "mixed_all" => Plan("mixed-all", ("column_wise", reversed), ("table_wise", [last]), ("data_parallel", null), ("row_wise", all)),
            _ => throw new ArgumentException(scheme),
        };
    }

    /// <summary>Writes the three files into a fresh temporary folder and returns their paths.</summary>
    public static (string Topology, string Workload, string Plan, string Dir) WriteFiles(string topology, string workload, string plan)
    {
        var dir = Path.Combine(Path.GetTempPath(), "harness-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        var t = Path.Combine(dir, "topology.yaml");
        var w = Path.Combine(dir, "workload.yaml");
        var p = Path.Combine(dir, "plan.yaml");
        File.WriteAllText(t, topology);
        File.WriteAllText(w, workload);
        File.WriteAllText(p, plan);
        return (t, w, p, dir);
    }

    public static Scenario Load(string topology, string workload, string plan)
    {
        var (t, w, p, dir) = WriteFiles(topology, workload, plan);
        try { return Scenario.Load(t, w, p); }
        finally { Directory.Delete(dir, true); }
    }
}
