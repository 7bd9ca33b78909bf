using Sim.Measurements;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Sim.Config;
using Sim.Iterations;
using Sim.Cost.Operators;

namespace Sim.Measurements;

/// <summary>
/// What the validation harness observed on real hardware (or on the CPU backend) for a (Cluster, Workload, Plan),
/// or for a set of microbenchmarks: provenance, the exact inputs, a status, and the results. Shared with
/// calibration. All times are seconds; bandwidths follow nccl-tests (GB = 1e9 bytes).
/// </summary>
/// <param name="SchemaVersion">Version of this schema (<see cref="MeasurementJson.SchemaVersion"/>).</param>
/// <param name="Kind"><see cref="MeasurementKinds.Run"/> (one end-to-end training run) or <see cref="MeasurementKinds.Micro"/>.</param>
public sealed record Measurement(
    int SchemaVersion,
    string Kind,
    MeasurementProvenance Provenance,
    IReadOnlyList<MeasurementInput> Inputs,
    MeasurementStatus Status,
    RunSettings? Run = null,
    EndToEndResult? EndToEnd = null,
    MicroResults? Micro = null);

public static class MeasurementKinds
{
    public const string Run = "run";
    public const string Micro = "micro";
}

/// <summary>Where and with what software a measurement was taken. Never holds a host name or a machine path.</summary>
/// <param name="Device">"cuda" or "cpu": the harness backend.</param>
/// <param name="GpuModel">GPU product name as the driver reports it ("cpu" on the CPU backend).</param>
/// <param name="GpuCount">GPUs visible to the harness (0 on the CPU backend).</param>
/// <param name="Driver">NVIDIA driver release, e.g. "580.95.05".</param>
/// <param name="Cuda">CUDA runtime version, e.g. "13.0".</param>
/// <param name="CudaDriver">Highest CUDA version the driver supports, e.g. "13.0".</param>
/// <param name="Nccl">NCCL version, e.g. "2.28.9".</param>
/// <param name="Libtorch">Version of the libtorch that was loaded, e.g. "2.11.0+cu130".</param>
/// <param name="TorchSharp">TorchSharp package version.</param>
/// <param name="Dotnet">.NET runtime version.</param>
/// <param name="DateUtc">ISO 8601 UTC time the measurement started.</param>
/// <param name="GitCommit">Commit of the harness build ("+dirty" when the tree had changes).</param>
/// <param name="CommandLine">The exact command, starting with "harness" (or the reference runner's script).</param>
/// <param name="Stack">The software stack that ran the work (<see cref="MeasurementStacks"/>): the harness's
/// "harness-eager" or "harness-fused", or the plain-PyTorch reference "pytorch-eager". Older measurements lack it:
/// they ran the harness's fused backward.</param>
/// <param name="Python">Python version where the reference runner made the measurement (null for the harness).</param>
public sealed record MeasurementProvenance(
    string Device,
    string GpuModel,
    int GpuCount,
    string Driver,
    string Cuda,
    string CudaDriver,
    string Nccl,
    string Libtorch,
    string TorchSharp,
    string Dotnet,
    string DateUtc,
    string GitCommit,
    string CommandLine,
    string? Stack = null,
    string? Python = null)
{
    /// <summary>The stack, with measurements from before stacks were recorded read as the harness's fused one.</summary>
    [JsonIgnore] public string StackOrDefault => Stack ?? MeasurementStacks.HarnessFused;
}


/// <summary>One input file: its role, its (repo-relative) name, SHA-256 of its bytes and, if small, its text.</summary>
public sealed record MeasurementInput(string Role, string Name, string Sha256, long Bytes, string? Content = null)
{
    /// <summary>Files up to this size are embedded verbatim.</summary>
    public const long MaxEmbeddedBytes = 64 * 1024;

    public static MeasurementInput FromFile(string role, string path)
    {
        var bytes = File.ReadAllBytes(path);
        var content = bytes.Length <= MaxEmbeddedBytes ? Encoding.UTF8.GetString(bytes) : null;
        return new MeasurementInput(role, YamlDocument.DisplayName(path), Convert.ToHexStringLower(SHA256.HashData(bytes)), bytes.Length, content);
    }
}

/// <summary>"ok", or "failed" with the rank and the call that failed and the error string (NCCL/CUDA text included).</summary>
public sealed record MeasurementStatus(string State, int? FailedRank = null, string? FailedCall = null, string? Error = null)
{
    public const string OkState = "ok";
    public const string FailedState = "failed";
    public static readonly MeasurementStatus Ok = new(OkState, null, null, null);
    public static MeasurementStatus Failed(int? rank, string? call, string error) => new(FailedState, rank, call, error);
    [JsonIgnore] public bool IsOk => State == OkState;
}

/// <summary>What an end-to-end run was asked to do.</summary>
public sealed record RunSettings(
    string Topology,
    string Workload,
    string Plan,
    int WorldSize,
    long GlobalBatchSize,
    long LocalBatchSize,
    int Warmup,
    int Iterations,
    long Seed,
    double LearningRate,
    string Optimizer,
    string ComputePrecision);

/// <summary>Median, minimum and maximum over measured iterations, seconds.</summary>
public sealed record TimeStats(double Median, double Min, double Max)
{
    public static TimeStats Of(IReadOnlyCollection<double> values)
    {
        if (values.Count == 0) throw new ArgumentException("no values", nameof(values));
        var s = values.OrderBy(v => v).ToArray();
        var n = s.Length;
        var median = n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
        return new TimeStats(median, s[0], s[^1]);
    }
}

/// <summary>One phase of <see cref="Phases.All"/>: statistics over iterations of the slowest rank's time.</summary>
public sealed record PhaseStats(string Name, double Median, double Min, double Max);

/// <summary>
/// One measured iteration. Every number is the maximum over ranks of that rank's value: <see cref="Seconds"/>
/// is wall time from the iteration's start barrier to the device being idle; <see cref="GpuBusy"/> the sum of
/// the phase times; <see cref="HostOverhead"/> iteration minus GPU-busy time (time in no phase).
/// <see cref="Phases"/> is in the order of <see cref="Sim.Iterations.Phases.All"/>; <see cref="Loss"/> is the global mean loss.
/// </summary>
public sealed record IterationSample(double Seconds, double GpuBusy, double HostOverhead, IReadOnlyList<double> Phases, double Loss);

/// <summary>Results of an end-to-end run over its measured (post-warm-up) iterations.</summary>
/// <param name="MeasuredIterations">Iterations that completed after warm-up (fewer than asked when the run failed).</param>
/// <param name="Phases">Per phase, in the order of <see cref="Sim.Iterations.Phases.All"/>.</param>
/// <param name="RankPhaseMedians">[rank][phase]: median over iterations of each rank's own phase time (shows imbalance).</param>
/// <param name="HostOverheadFraction">Median host overhead over median iteration time.</param>
/// <param name="PhaseDeviceBusy">Per phase, seconds the GPU ran kernels within the phase (torch.profiler; slowest rank, median
/// over profiled iterations), where measured: a phase much longer than its busy time waited on the host.</param>
public sealed record EndToEndResult(
    int MeasuredIterations,
    IReadOnlyList<PhaseStats> Phases,
    TimeStats Iteration,
    TimeStats GpuBusy,
    TimeStats HostOverhead,
    double HostOverheadFraction,
    double SamplesPerSecond,
    IReadOnlyList<IReadOnlyList<double>> RankPhaseMedians,
    IReadOnlyList<IterationSample> PerIteration,
    IReadOnlyList<double>? PhaseDeviceBusy = null);

/// <summary>Microbenchmark results; a list is null when that benchmark was not run.</summary>
public sealed record MicroResults(
    int Warmup,
    int Repetitions,
    IReadOnlyList<GemmResult>? Gemm = null,
    IReadOnlyList<EmbeddingResult>? Embedding = null,
    IReadOnlyList<CollectiveResult>? Collectives = null,
    IReadOnlyList<OperatorResult>? Operators = null);

/// <summary>
/// One operator measured alone on one GPU (the operator grid calibration fits from): device time with CUDA events
/// and the host's time to issue the calls, both medians over repetitions. <see cref="Shape"/> holds the sizes the
/// operator's cost depends on; which keys each op has is in <see cref="OperatorNames"/>.
/// </summary>
/// <param name="Op">One of <see cref="OperatorNames.All"/>.</param>
/// <param name="Stack">The stack that ran it (<see cref="MeasurementStacks"/>).</param>
/// <param name="Dtype">Data type of the values (fp32, tf32, bf16, fp16).</param>
/// <param name="Optimizer">sgd, rowwise_adagrad, adagrad or adam for optimizer-bearing ops; null otherwise.</param>
/// <param name="DeviceSeconds">GPU time from the first kernel's start to the last one's end (CUDA events).</param>
/// <param name="HostSeconds">Host time to issue the operator's calls (the call returning, no synchronisation).</param>
/// <param name="WallSeconds">Host wall time of issuing and completing the operator (synchronised), if measured.</param>
public sealed record OperatorResult(
    string Op,
    string Stack,
    string Dtype,
    string? Optimizer,
    IReadOnlyDictionary<string, double> Shape,
    double DeviceSeconds,
    double HostSeconds,
    double? WallSeconds = null);


/// <summary>C[m,n] = A[m,k]·B[k,n]; <see cref="Label"/> says where the shape comes from (e.g. "dlrm-small bottom[0] fwd b=4096").</summary>
public sealed record GemmResult(string Label, long M, long K, long N, string Dtype, double Seconds, double FlopsPerSecond)
{
    public static double Flops(long m, long k, long n) => 2.0 * m * k * n;
}

/// <summary>
/// Sum-pooled EmbeddingBag over a rows x dim table, batch bags of <see cref="Pooling"/> lookups each. Forward is the
/// lookup; backward is the harness's fused backward with the optimizer update (gradient per lookup, per unique row,
/// <see cref="Optimizer"/> applied to touched rows only), as in the embedding_backward phase.
/// </summary>
public sealed record EmbeddingResult(long Rows, int Dim, double Pooling, long Batch, string Dtype, string Optimizer, double ForwardSeconds, double BackwardSeconds);

/// <summary>
/// One collective at one size, as nccl-tests reports it: <see cref="Bytes"/> is nccl-tests' "size" (all-reduce: the
/// buffer; all-gather: the gathered output; reduce-scatter: the input; all-to-all: one rank's send buffer),
/// algbw = Bytes / 1e9 / Seconds, busbw = algbw x <see cref="Nccl.CollectiveOps.BusBandwidthFactor(string, int, Nccl.CollectiveOp?)"/>.
/// </summary>
public sealed record CollectiveResult(string Op, int WorldSize, long Bytes, double Seconds, double AlgbwGbPerSecond, double BusbwGbPerSecond)
{
    public static CollectiveResult Create(string op, int worldSize, long bytes, double seconds)
    {
        var alg = CollectiveBandwidth.AlgbwGbPerSecond(bytes, seconds);
        return new CollectiveResult(op, worldSize, bytes, seconds, alg, alg * Nccl.CollectiveOps.BusBandwidthFactor(op, worldSize));
    }
}

/// <summary>nccl-tests' bandwidth definitions.</summary>
public static class CollectiveBandwidth
{
    public const string AllReduce = Nccl.CollectiveOps.AllReduceName;
    public const string ReduceScatter = Nccl.CollectiveOps.ReduceScatterName;
    public const string AllGather = Nccl.CollectiveOps.AllGatherName;
    public const string AllToAll = Nccl.CollectiveOps.AllToAllName;
    public static readonly IReadOnlyList<string> Ops = [AllReduce, ReduceScatter, AllGather, AllToAll];

    public static double AlgbwGbPerSecond(long bytes, double seconds) => seconds > 0 ? bytes / 1e9 / seconds : 0;
}

/// <summary>
/// Reads and writes <see cref="Measurement"/> JSON: snake_case keys in declaration order, shortest round-trip
/// doubles, null fields left out. Writing a file is atomic (temporary file, then rename over the target).
/// </summary>
public static class MeasurementJson
{
    public const int SchemaVersion = 1;

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        // A misspelt field must not vanish: the reader refuses what its types do not name.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private static readonly Lazy<IReadOnlyCollection<string>> Fields = new(() => Sim.Config.JsonInput.FieldNames(Schema()));

    private static readonly JsonSerializerOptions Compact = new(Options) { WriteIndented = false };

    /// <summary>The JSON Schema of a measurement file (one object; files may also hold an array of them), from the types.</summary>
    public static string Schema() => Sim.Config.JsonSchemas.Of(typeof(Measurement), Options, "Sim measurement (validation/runs)",
        // An operator may leave out its optimizer (the reader takes it as null, see FromNode).
        optional: ("shape", "optimizer"));

    public static string Write(Measurement m, bool indented = true) => JsonSerializer.Serialize(m, indented ? Options : Compact);

    /// <summary>Writes <paramref name="m"/> to <paramref name="path"/> atomically: readers see the old file or the new one, never half.</summary>
    public static void WriteFile(string path, Measurement m, bool indented = true) => WriteTextAtomically(path, Write(m, indented) + "\n");

    public static void WriteTextAtomically(string path, string text) => AtomicFile.WriteAllText(path, text);

    /// <summary>Parses one measurement object and checks it against the schema.</summary>
    public static Measurement Read(string json, string fileName = "measurement")
    {
        var node = Sim.Config.JsonInput.Parse(json, fileName);
        if (node is not JsonObject o) throw new SimInputException(fileName, "", "expected a JSON object");
        return FromNode(o, fileName, "");
    }

    /// <summary>Parses a file holding one measurement object or an array of them.</summary>
    public static IReadOnlyList<Measurement> ReadAll(string json, string fileName = "measurement")
    {
        var node = Sim.Config.JsonInput.Parse(json, fileName);
        return node switch
        {
            JsonObject o => [FromNode(o, fileName, "")],
            JsonArray a => a.Select((n, i) => n is JsonObject o
                ? FromNode(o, fileName, $"[{i}]")
                : throw new SimInputException(fileName, $"[{i}]", "expected a measurement object")).ToList(),
            _ => throw new SimInputException(fileName, "", "expected a measurement object or an array of them"),
        };
    }

    public static IReadOnlyList<Measurement> ReadFile(string path)
    {
        var shown = YamlDocument.DisplayName(path);
        if (!File.Exists(path)) throw new SimInputException(shown, "", "file not found");
        return ReadAll(InputFile.ReadText(path, shown), shown);
    }

    private static Measurement FromNode(JsonObject o, string file, string at)
    {
        // An operator without an optimizer may leave the key out (the writer drops nulls): it reads as null.
        if (o["micro"] is JsonObject micro && micro["operators"] is JsonArray ops)
            foreach (var op in ops)
                if (op is JsonObject obj && !obj.ContainsKey("optimizer")) obj["optimizer"] = null;
        Measurement? m;
        try { m = o.Deserialize<Measurement>(Options); }
        catch (JsonException e)
        {
            throw Sim.Config.JsonInput.Error(e, file, at, Fields.Value, fromText: false);
        }
        if (m is null) throw new SimInputException(file, at, "expected a measurement object");
        Validate(m, file, at);
        return m;
    }

    /// <summary>Checks what the type system cannot: versions, enumerations, phase names and array shapes.</summary>
    public static void Validate(Measurement m, string file = "measurement", string at = "")
    {
        string F(string field) => at.Length == 0 ? field : $"{at}.{field}";
        if (m.SchemaVersion != SchemaVersion)
            throw new SimInputException(file, F("schema_version"), $"schema version {m.SchemaVersion} is not supported (expected {SchemaVersion})");
        if (m.Kind is not (MeasurementKinds.Run or MeasurementKinds.Micro))
            throw new SimInputException(file, F("kind"), $"'{m.Kind}' is not a measurement kind; expected 'run' or 'micro'");
        if (m.Status.State is not (MeasurementStatus.OkState or MeasurementStatus.FailedState))
            throw new SimInputException(file, F("status.state"), $"'{m.Status.State}' is not a status; expected 'ok' or 'failed'");
        if (m.Status.State == MeasurementStatus.FailedState && string.IsNullOrEmpty(m.Status.Error))
            throw new SimInputException(file, F("status.error"), "a failed measurement must say what failed");
        if (m.Kind == MeasurementKinds.Run && m.Run is null)
            throw new SimInputException(file, F("run"), "a run measurement needs its settings");
        if (m.EndToEnd is { } e)
        {
            var names = e.Phases.Select(p => p.Name).ToArray();
            if (!names.SequenceEqual(Phases.All))
                throw new SimInputException(file, F("end_to_end.phases"),
                    $"phases must be exactly [{string.Join(", ", Phases.All)}] in that order, found [{string.Join(", ", names)}]");
            for (var i = 0; i < e.PerIteration.Count; i++)
                if (e.PerIteration[i].Phases.Count != Phases.All.Count)
                    throw new SimInputException(file, F($"end_to_end.per_iteration[{i}].phases"),
                        $"expected {Phases.All.Count} phase times, found {e.PerIteration[i].Phases.Count}");
            for (var r = 0; r < e.RankPhaseMedians.Count; r++)
                if (e.RankPhaseMedians[r].Count != Phases.All.Count)
                    throw new SimInputException(file, F($"end_to_end.rank_phase_medians[{r}]"),
                        $"expected {Phases.All.Count} phase times, found {e.RankPhaseMedians[r].Count}");
            if (e.MeasuredIterations != e.PerIteration.Count)
                throw new SimInputException(file, F("end_to_end.measured_iterations"),
                    $"says {e.MeasuredIterations} but per_iteration holds {e.PerIteration.Count}");
        }
        if (m.Micro?.Collectives is { } cs)
            for (var i = 0; i < cs.Count; i++)
                if (!CollectiveBandwidth.Ops.Contains(cs[i].Op))
                    throw new SimInputException(file, F($"micro.collectives[{i}].op"),
                        $"'{cs[i].Op}' is not a collective; expected one of {string.Join(", ", CollectiveBandwidth.Ops)}");
        if (m.Provenance.Stack is { } stack && !MeasurementStacks.All.Contains(stack))
            throw new SimInputException(file, F("provenance.stack"),
                $"'{stack}' is not a stack; expected one of {string.Join(", ", MeasurementStacks.All)}");
        if (m.Micro?.Operators is { } ops)
            for (var i = 0; i < ops.Count; i++)
            {
                if (!OperatorNames.All.Contains(ops[i].Op))
                    throw new SimInputException(file, F($"micro.operators[{i}].op"),
                        $"'{ops[i].Op}' is not an operator; expected one of {string.Join(", ", OperatorNames.All)}");
                if (!MeasurementStacks.All.Contains(ops[i].Stack))
                    throw new SimInputException(file, F($"micro.operators[{i}].stack"),
                        $"'{ops[i].Stack}' is not a stack; expected one of {string.Join(", ", MeasurementStacks.All)}");
            }
        ValidateNumbers(m, file, F);
    }

    /// <summary>
    /// Times and sizes must be finite and non-negative (JSON's named literals let "NaN" in), and what a benchmark or an
    /// iteration took must be positive: calibration divides by them and fits lines through them.
    /// </summary>
    private static void ValidateNumbers(Measurement m, string file, Func<string, string> at)
    {
        void Check(bool ok, string field, double v, string what)
        {
            if (!ok) throw new SimInputException(file, at(field), $"must be {what}, found {v.ToString("R", CultureInfo.InvariantCulture)}");
        }
        void Time(string field, double v) => Check(double.IsFinite(v) && v >= 0, field, v, "a finite, non-negative number of seconds");
        void Positive(string field, double v) => Check(double.IsFinite(v) && v > 0, field, v, "positive and finite");
        void Stats(string field, double median, double min, double max)
        {
            Time($"{field}.median", median); Time($"{field}.min", min); Time($"{field}.max", max);
        }
        if (m.EndToEnd is { } e)
        {
            Positive("end_to_end.iteration.median", e.Iteration.Median);
            Stats("end_to_end.iteration", e.Iteration.Median, e.Iteration.Min, e.Iteration.Max);
            Stats("end_to_end.gpu_busy", e.GpuBusy.Median, e.GpuBusy.Min, e.GpuBusy.Max);
            for (var i = 0; i < e.Phases.Count; i++) Stats($"end_to_end.phases[{i}]", e.Phases[i].Median, e.Phases[i].Min, e.Phases[i].Max);
            for (var i = 0; i < e.PerIteration.Count; i++)
            {
                Time($"end_to_end.per_iteration[{i}].seconds", e.PerIteration[i].Seconds);
                for (var j = 0; j < e.PerIteration[i].Phases.Count; j++) Time($"end_to_end.per_iteration[{i}].phases[{j}]", e.PerIteration[i].Phases[j]);
            }
            for (var r = 0; r < e.RankPhaseMedians.Count; r++)
                for (var j = 0; j < e.RankPhaseMedians[r].Count; j++) Time($"end_to_end.rank_phase_medians[{r}][{j}]", e.RankPhaseMedians[r][j]);
        }
        if (m.Micro is not { } micro) return;
        for (var i = 0; i < (micro.Gemm?.Count ?? 0); i++)
        {
            var g = micro.Gemm![i];
            Positive($"micro.gemm[{i}].seconds", g.Seconds);
            foreach (var (name, v) in new[] { ("m", g.M), ("k", g.K), ("n", g.N) }) Positive($"micro.gemm[{i}].{name}", v);
        }
        for (var i = 0; i < (micro.Embedding?.Count ?? 0); i++)
        {
            var b = micro.Embedding![i];
            Positive($"micro.embedding[{i}].forward_seconds", b.ForwardSeconds);
            Positive($"micro.embedding[{i}].backward_seconds", b.BackwardSeconds);
            Positive($"micro.embedding[{i}].rows", b.Rows);
            Positive($"micro.embedding[{i}].dim", b.Dim);
            Positive($"micro.embedding[{i}].pooling", b.Pooling);
            Positive($"micro.embedding[{i}].batch", b.Batch);
        }
        for (var i = 0; i < (micro.Operators?.Count ?? 0); i++)
        {
            var o = micro.Operators![i];
            Positive($"micro.operators[{i}].device_seconds", o.DeviceSeconds);
            Time($"micro.operators[{i}].host_seconds", o.HostSeconds);
            foreach (var (k, v) in o.Shape) Check(double.IsFinite(v) && v >= 0, $"micro.operators[{i}].shape.{k}", v, "finite and non-negative");
        }
        for (var i = 0; i < (micro.Collectives?.Count ?? 0); i++)
        {
            var c = micro.Collectives![i];
            Positive($"micro.collectives[{i}].seconds", c.Seconds);
            Positive($"micro.collectives[{i}].bytes", c.Bytes);
            Check(c.WorldSize >= 1, $"micro.collectives[{i}].world_size", c.WorldSize, "at least 1");
        }
    }

    /// <summary>Current UTC time in the format of <see cref="MeasurementProvenance.DateUtc"/>.</summary>
    public static string UtcNow() => DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
