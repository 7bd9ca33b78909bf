using System.Globalization;
using DuckDB.NET.Data;
using Sim.Config;
using Sim.Workload;
using Sim.Predictions;
using Sim.Iterations;
using Sim.Hardware;

namespace Sim.Sweep;

/// <summary>A sweep run as recorded in the runs table (the only place with timestamps).</summary>
public sealed record RunRecord(string Sweep, string SweepFile, DateTime StartedUtc, DateTime FinishedUtc, int Threads, string Shard,
    long Configurations, long Computed, long Skipped, bool Interrupted);

/// <summary>What <see cref="ResultStore.Merge"/> did.</summary>
public sealed record MergeResult(long Parts, long RowsRead, long RowsAdded, long Conflicts);

/// <summary>
/// Sweep results in an embedded DuckDB database. Tables: <c>results</c> (one row per configuration, primary key
/// <c>key</c>, no timestamps), <c>runs</c> (one row per `sim sweep` run, with times), <c>sweep_axes</c> (the axes and
/// values of each sweep, in file order, for reports) and <c>meta</c> (schema version and column list).
/// </summary>
public sealed class ResultStore : IDisposable
{
    public const string SchemaVersion = "2";
    private readonly DuckDBConnection _c;

    public string File { get; }

    // Before Columns: static fields are initialised in the order they are written.
    private static readonly SweepKnob[] FirstKnobColumns = [.. SweepKnobs.All.Where(k => k.HasColumn && !k.IsLate)];
    private static readonly SweepKnob[] LateKnobColumns = [.. SweepKnobs.All.Where(k => k.HasColumn && k.IsLate)];

    /// <summary>Column names and DuckDB types of the results table, in order.</summary>
    public static IReadOnlyList<(string Name, string Type)> Columns { get; } = BuildColumns();

    // Knob columns come from the catalogue: the first knobs after the row's names, late knobs after the prediction.
    private static List<(string, string)> BuildColumns()
    {
        var cols = new List<(string, string)> { ("key", "VARCHAR"), ("topology", "VARCHAR"), ("workload", "VARCHAR") };
        cols.AddRange(FirstKnobColumns.Select(k => (k.Name, k.SqlType)));
        cols.AddRange([("status", "VARCHAR"), ("error", "VARCHAR"), ("iteration_seconds", "DOUBLE"), ("samples_per_second", "DOUBLE")]);
        cols.AddRange(Phases.All.Select(p => (PhaseColumn(p), "DOUBLE")));
        cols.AddRange([
            ("exposed_communication_seconds", "DOUBLE"), ("hidden_communication_seconds", "DOUBLE"), ("bottleneck_phase", "VARCHAR"),
            ("memory_bytes_max", "BIGINT"), ("memory_capacity_bytes", "BIGINT"),
        ]);
        cols.AddRange(LateKnobColumns.Select(k => (k.Name, k.SqlType)));
        cols.AddRange([
            ("iteration_seconds_p50", "DOUBLE"), ("iteration_seconds_p90", "DOUBLE"), ("iteration_seconds_p99", "DOUBLE"), ("pacing_rank", "INTEGER"),
        ]);
        return cols;
    }

    public static string PhaseColumn(string phase) => phase + "_seconds";

    private static string ColumnSignature => string.Join(",", Columns.Select(c => $"{c.Name} {c.Type}"));

    private ResultStore(DuckDBConnection c, string file) { _c = c; File = file; }

    /// <summary>Opens (creating if needed) a results database. A database of another schema is refused with a clear message.</summary>
    public static ResultStore Open(string path, bool readOnly = false)
    {
        var shown = YamlDocument.DisplayName(path);
        if (readOnly && !System.IO.File.Exists(path))
            throw new SimInputException(shown, "", "results database not found");
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!readOnly && dir is not null) Directory.CreateDirectory(dir);
        var builder = new DuckDBConnectionStringBuilder { DataSource = path };
        if (readOnly) builder["ACCESS_MODE"] = "READ_ONLY";
        var c = new DuckDBConnection(builder.ToString());
        try
        {
            c.Open();
        }
        catch (DuckDBException e)
        {
            c.Dispose();
            throw new SimInputException(shown, "", $"cannot open the results database: {FirstLine(e.Message)}");
        }
        var store = new ResultStore(c, shown);
        try
        {
            if (readOnly) store.CheckSchema(""); else store.EnsureSchema();
        }
        catch
        {
            store.Dispose();
            throw;
        }
        return store;
    }

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();

    private void EnsureSchema()
    {
        Exec("CREATE TABLE IF NOT EXISTS meta (name VARCHAR PRIMARY KEY, value VARCHAR)");
        var existing = Scalar("SELECT value FROM meta WHERE name = 'schema_version'");
        if (existing is null)
        {
            using var tx = _c.BeginTransaction();
            Exec("CREATE TABLE results (" + string.Join(", ", Columns.Select(c => $"{c.Name} {c.Type}" + (c.Name == "key" ? " PRIMARY KEY" : ""))) + ")");
            Exec("CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, sweep VARCHAR, sweep_file VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, " +
                 "threads INTEGER, shard VARCHAR, configurations BIGINT, computed BIGINT, skipped BIGINT, interrupted BOOLEAN, sim_version VARCHAR)");
            Exec("CREATE TABLE sweep_axes (sweep VARCHAR, axis VARCHAR, position INTEGER, value VARCHAR, PRIMARY KEY (sweep, axis, position))");
            Exec($"INSERT INTO meta VALUES ('schema_version', '{SchemaVersion}'), ('results_columns', '{ColumnSignature}')");
            tx.Commit();
        }
        else CheckSchema("");
    }

    private void CheckSchema(string schema)
    {
        string? version, columns;
        try
        {
            version = Scalar($"SELECT value FROM {schema}meta WHERE name = 'schema_version'");
            columns = Scalar($"SELECT value FROM {schema}meta WHERE name = 'results_columns'");
        }
        catch (DuckDBException)
        {
            throw new SimInputException(File, "", "not a Sim results database (no meta table)");
        }
        if (version != SchemaVersion || columns != ColumnSignature)
            throw new SimInputException(File, "", $"results database has schema {version ?? "?"} with other columns than this Sim writes ({SchemaVersion}); write to a new file");
    }

    public HashSet<string> Keys()
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        using var cmd = _c.CreateCommand();
        cmd.CommandText = "SELECT key FROM results";
        using var r = cmd.ExecuteReader();
        while (r.Read()) keys.Add(r.GetString(0));
        return keys;
    }

    /// <summary>Which of <paramref name="keys"/> are stored: one query per batch, so a resumed sweep never holds every key.</summary>
    public HashSet<string> Stored(IReadOnlyCollection<string> keys)
    {
        var found = new HashSet<string>(StringComparer.Ordinal);
        if (keys.Count == 0) return found;
        using var cmd = _c.CreateCommand();
        // Keys are the runner's own hex digests; they are still checked so that no text reaches the query unescaped.
        foreach (var k in keys)
            if (!k.All(char.IsAsciiHexDigitLower)) throw new ArgumentException($"not a sweep key: '{k}'", nameof(keys));
        cmd.CommandText = $"SELECT key FROM results WHERE key IN ({string.Join(",", keys.Select(k => $"'{k}'"))})";
        using var r = cmd.ExecuteReader();
        while (r.Read()) found.Add(r.GetString(0));
        return found;
    }

    public long Count(string? status = null)
    {
        var v = Scalar(status is null ? "SELECT count(*) FROM results" : $"SELECT count(*) FROM results WHERE status = '{status.Replace("'", "''", StringComparison.Ordinal)}'");
        return long.Parse(v ?? "0", CultureInfo.InvariantCulture);
    }

    /// <summary>Appends rows (sorted by key first) in one transaction: a chunk is either all in or not at all.</summary>
    public void Append(IEnumerable<SweepRow> rows)
    {
        var sorted = rows.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
        if (sorted.Count == 0) return;
        using var tx = _c.BeginTransaction();
        using (var app = _c.CreateAppender("results"))
        {
            foreach (var row in sorted) Write(app.CreateRow(), row).EndRow();
        }
        tx.Commit();
    }

    private static IDuckDBAppenderRow Write(IDuckDBAppenderRow a, SweepRow r)
    {
        var p = r.Point;
        a.AppendValue(r.Key).AppendValue(r.Topology).AppendValue(r.Workload);
        foreach (var k in FirstKnobColumns) k.Append(a, p);
        a.AppendValue(r.Status).AppendValue(r.Error)
         .AppendValue(r.IterationSeconds).AppendValue(r.SamplesPerSecond);
        for (var i = 0; i < Phases.All.Count; i++)
            a.AppendValue(r.PhaseSeconds is { } ph && i < ph.Count ? ph[i] : (double?)null);
        a.AppendValue(r.ExposedCommunicationSeconds).AppendValue(r.HiddenCommunicationSeconds).AppendValue(r.BottleneckPhase)
         .AppendValue(r.MemoryBytesMax).AppendValue((long?)r.MemoryCapacityBytes);
        foreach (var k in LateKnobColumns) k.Append(a, p);
        a.AppendValue(r.IterationSecondsP50).AppendValue(r.IterationSecondsP90).AppendValue(r.IterationSecondsP99).AppendValue(r.PacingRank);
        return a;
    }

    /// <summary>Every row, ordered by key.</summary>
    public List<SweepRow> ReadRows()
    {
        using var cmd = _c.CreateCommand();
        cmd.CommandText = "SELECT * FROM results ORDER BY key";
        using var r = cmd.ExecuteReader();
        var rows = new List<SweepRow>();
        int O(string name) => r.GetOrdinal(name);
        var phaseOrd = Phases.All.Select(p => O(PhaseColumn(p))).ToArray();
        var storedKnobs = SweepKnobs.Keyed;
        var knobOrd = storedKnobs.Select(k => O(k.Name)).ToArray();
        while (r.Read())
        {
            string S(string n) => r.GetString(O(n));
            string? NS(string n) => r.IsDBNull(O(n)) ? null : r.GetString(O(n));
            double? ND(string n) => r.IsDBNull(O(n)) ? null : r.GetDouble(O(n));
            long? NL(string n) => r.IsDBNull(O(n)) ? null : r.GetInt64(O(n));
            var point = SweepPoint.Unset with { Key = S("key") };
            for (var k = 0; k < storedKnobs.Length; k++) point = storedKnobs[k].Read(point, r, knobOrd[k]);
            var status = S("status");
            double[]? phases = null;
            if (status == RowStatus.Ok)
                phases = phaseOrd.Select(o => r.IsDBNull(o) ? 0 : r.GetDouble(o)).ToArray();
            rows.Add(new SweepRow(point, S("topology"), S("workload"), status, NS("error"), ND("iteration_seconds"), ND("samples_per_second"),
                phases, ND("exposed_communication_seconds"), ND("hidden_communication_seconds"), NS("bottleneck_phase"),
                NL("memory_bytes_max"), NL("memory_capacity_bytes") ?? 0)
            {
                IterationSecondsP50 = ND("iteration_seconds_p50"), IterationSecondsP90 = ND("iteration_seconds_p90"),
                IterationSecondsP99 = ND("iteration_seconds_p99"), PacingRank = r.IsDBNull(O("pacing_rank")) ? null : r.GetInt32(O("pacing_rank")),
            });
        }
        return rows;
    }

    public void SaveRun(RunRecord run)
    {
        using var cmd = _c.CreateCommand();
        cmd.CommandText = "INSERT INTO runs VALUES ($id, $sweep, $file, $start, $end, $threads, $shard, $n, $computed, $skipped, $interrupted, $version)";
        cmd.Parameters.Add(new DuckDBParameter("id", Guid.NewGuid().ToString("N")));
        cmd.Parameters.Add(new DuckDBParameter("sweep", run.Sweep));
        cmd.Parameters.Add(new DuckDBParameter("file", run.SweepFile));
        cmd.Parameters.Add(new DuckDBParameter("start", run.StartedUtc));
        cmd.Parameters.Add(new DuckDBParameter("end", run.FinishedUtc));
        cmd.Parameters.Add(new DuckDBParameter("threads", run.Threads));
        cmd.Parameters.Add(new DuckDBParameter("shard", run.Shard));
        cmd.Parameters.Add(new DuckDBParameter("n", run.Configurations));
        cmd.Parameters.Add(new DuckDBParameter("computed", run.Computed));
        cmd.Parameters.Add(new DuckDBParameter("skipped", run.Skipped));
        cmd.Parameters.Add(new DuckDBParameter("interrupted", run.Interrupted));
        cmd.Parameters.Add(new DuckDBParameter("version", SimVersion));
        cmd.ExecuteNonQuery();
    }

    public static string SimVersion { get; } =
        typeof(ResultStore).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>Records a sweep's axes (replacing an earlier record of the same sweep name).</summary>
    public void SaveAxes(string sweep, IReadOnlyList<AxisValues> axes)
    {
        using var tx = _c.BeginTransaction();
        using (var del = _c.CreateCommand())
        {
            del.CommandText = "DELETE FROM sweep_axes WHERE sweep = $s";
            del.Parameters.Add(new DuckDBParameter("s", sweep));
            del.ExecuteNonQuery();
        }
        foreach (var a in axes)
        {
            for (var i = 0; i < a.Values.Count; i++)
            {
                using var cmd = _c.CreateCommand();
                cmd.CommandText = "INSERT INTO sweep_axes VALUES ($s, $a, $i, $v)";
                cmd.Parameters.Add(new DuckDBParameter("s", sweep));
                cmd.Parameters.Add(new DuckDBParameter("a", a.Axis.Name));
                cmd.Parameters.Add(new DuckDBParameter("i", i));
                cmd.Parameters.Add(new DuckDBParameter("v", SweepAxis.Format(a.Values[i])));
                cmd.ExecuteNonQuery();
            }
        }
        tx.Commit();
    }

    /// <summary>Axis name to its values in file order (the first sweep by name wins where several recorded the same axis).</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ReadAxes()
    {
        using var cmd = _c.CreateCommand();
        cmd.CommandText = "SELECT sweep, axis, value FROM sweep_axes ORDER BY sweep, axis, position";
        using var r = cmd.ExecuteReader();
        var result = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        while (r.Read())
        {
            var (sweep, axis, value) = (r.GetString(0), r.GetString(1), r.GetString(2));
            if (owner.TryGetValue(axis, out var o) && o != sweep) continue;
            owner[axis] = sweep;
            if (!result.TryGetValue(axis, out var list)) result[axis] = list = [];
            list.Add(value);
        }
        return result.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal);
    }

    public IReadOnlyList<string> SweepNames()
    {
        using var cmd = _c.CreateCommand();
        cmd.CommandText = "SELECT DISTINCT sweep FROM (SELECT sweep FROM runs UNION ALL SELECT sweep FROM sweep_axes) ORDER BY sweep";
        using var r = cmd.ExecuteReader();
        var names = new List<string>();
        while (r.Read()) names.Add(r.GetString(0));
        return names;
    }

    /// <summary>Writes every row, ordered by key, as CSV with a header (byte-identical for identical rows).</summary>
    public void ExportCsv(string path) => Export(path, "FORMAT csv, HEADER true, DELIMITER ','");

    public void ExportParquet(string path) => Export(path, "FORMAT parquet");

    private void Export(string path, string options)
    {
        AtomicFile.Write(path, (string tmp) =>
        {
            try { Exec($"COPY (SELECT * FROM results ORDER BY key) TO {Quote(tmp)} ({options})"); }
            catch (DuckDBException e)
            {
                // The target is the user's (a missing folder, no room): a file error, not a bug; the old export stays.
                throw new IOException($"cannot write {YamlDocument.DisplayName(path)}: {e.Message}", e);
            }
        });
    }

    /// <summary>
    /// Joins result databases (shards of one sweep, or any results of this schema) into <paramref name="outPath"/>:
    /// rows whose key is already there are skipped; a key that appears with different values counts as a conflict.
    /// </summary>
    public static MergeResult Merge(string outPath, IReadOnlyList<string> parts)
    {
        using var store = Open(outPath);
        long read = 0, added = 0, conflicts = 0;
        var outFull = Path.GetFullPath(outPath);
        foreach (var part in parts)
        {
            var shown = YamlDocument.DisplayName(part);
            if (!System.IO.File.Exists(part)) throw new SimInputException(shown, "", "results database not found");
            if (Path.GetFullPath(part) == outFull) throw new SimInputException(shown, "", "a part cannot be the output database");
            try
            {
                store.Exec($"ATTACH {Quote(Path.GetFullPath(part))} AS part (READ_ONLY)");
            }
            catch (DuckDBException e)
            {
                throw new SimInputException(shown, "", $"cannot open the results database: {FirstLine(e.Message)}");
            }
            try
            {
                try { store.CheckSchema("part."); }
                catch (SimInputException e) { throw new SimInputException(shown, "", e.Problem); }
                read += long.Parse(store.Scalar("SELECT count(*) FROM part.results")!, CultureInfo.InvariantCulture);
                conflicts += long.Parse(store.Scalar(
                    "SELECT count(*) FROM part.results p JOIN results o ON p.key = o.key WHERE p IS DISTINCT FROM o")!, CultureInfo.InvariantCulture);
                using var tx = store._c.BeginTransaction();
                var before = store.Count();
                store.Exec("INSERT INTO results SELECT * FROM part.results ORDER BY key ON CONFLICT DO NOTHING");
                added += store.Count() - before;
                store.Exec("INSERT INTO runs SELECT * FROM part.runs ON CONFLICT DO NOTHING");
                store.Exec("INSERT INTO sweep_axes SELECT * FROM part.sweep_axes ON CONFLICT DO NOTHING");
                tx.Commit();
            }
            finally
            {
                store.Exec("DETACH part");
            }
        }
        return new MergeResult(parts.Count, read, added, conflicts);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'";

    private void Exec(string sql)
    {
        using var cmd = _c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private string? Scalar(string sql)
    {
        using var cmd = _c.CreateCommand();
        cmd.CommandText = sql;
        var v = cmd.ExecuteScalar();
        return v is null or DBNull ? null : Convert.ToString(v, CultureInfo.InvariantCulture);
    }

    public void Dispose() => _c.Dispose();
}
