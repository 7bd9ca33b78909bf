using System.Globalization;
using System.Text.Json;
using Sim.Config;

namespace Sim.Traces;

/// <summary>
/// Turns the events of one Kineto trace, one at a time, into what Sim keeps: host operators and annotations, device
/// work, the GPU and the rank. Names are interned (a trace repeats a few hundred names millions of times).
/// </summary>
internal sealed class KinetoTraceBuilder(string shown)
{
    private readonly List<CpuOp> _ops = [];
    private readonly List<GpuKernel> _kernels = [];
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _dropped = new(StringComparer.Ordinal);
    private TraceGpu? _gpu;
    private int? _rank, _world;
    private string? _cuda, _nccl;
    private long _events;

    public KinetoTrace Build()
    {
        if (_events == 0) throw new SimInputException(shown, "traceEvents", "is empty");
        return new KinetoTrace(shown, _rank, _world, _gpu, _ops, _kernels, _dropped) { CudaVersion = _cuda, NcclVersion = _nccl };
    }

    public void DeviceProperties(ReadOnlySpan<byte> json, long at)
    {
        using var doc = Parse(json, at, "deviceProperties");
        if (doc.RootElement.ValueKind != JsonValueKind.Array || doc.RootElement.GetArrayLength() == 0) return;
        var d = doc.RootElement[0];
        _gpu = new TraceGpu(
            d.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "unknown",
            d.TryGetProperty("totalGlobalMem", out var m) && m.TryGetInt64(out var mem) ? mem : 0,
            d.TryGetProperty("numSms", out var s) && s.TryGetInt32(out var sms) ? sms : 0);
    }

    public void DistributedInfo(ReadOnlySpan<byte> json, long at)
    {
        using var doc = Parse(json, at, "distributedInfo");
        if (doc.RootElement.ValueKind != JsonValueKind.Object) return;
        if (doc.RootElement.TryGetProperty("rank", out var r) && r.TryGetInt32(out var rank)) _rank = rank;
        if (doc.RootElement.TryGetProperty("world_size", out var w) && w.TryGetInt32(out var world)) _world = world;
        if (doc.RootElement.TryGetProperty("nccl_version", out var v) && v.ValueKind == JsonValueKind.String) _nccl = v.GetString();
    }

    /// <summary>`cuda_runtime_version` as CUDA encodes it (12040 is 12.4).</summary>
    public void CudaRuntime(ReadOnlySpan<byte> json)
    {
        var r = new Utf8JsonReader(json, isFinalBlock: true, default);
        if (r.Read() && r.TokenType == JsonTokenType.Number && r.TryGetInt32(out var v) && v > 0)
            _cuda = $"{v / 1000}.{v % 1000 / 10}";
    }

    private JsonDocument Parse(ReadOnlySpan<byte> json, long at, string field)
    {
        try { return JsonDocument.Parse(json.ToArray()); }
        catch (JsonException e) { throw new SimInputException(shown, field, $"byte {at}: malformed ({e.Message})"); }
    }

    /// <summary>One element of traceEvents.</summary>
    public void Event(ReadOnlySpan<byte> json, long at)
    {
        _events++;
        var r = new Utf8JsonReader(json, isFinalBlock: true, default);
        r.Read();
        if (r.TokenType != JsonTokenType.StartObject)
            throw new SimInputException(shown, "traceEvents", $"byte {at}: an event is not a JSON object");
        string? ph = null, cat = null, name = null, pid = null, tid = null;
        double ts = double.NaN, dur = 0;
        EventArgs args = default;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var key = r.GetString();
            r.Read();
            switch (key)
            {
                case "ph": ph = Text(ref r); break;
                case "cat": cat = Text(ref r); break;
                case "name": name = Text(ref r); break;
                case "pid": pid = Text(ref r); break;
                case "tid": tid = Text(ref r); break;
                case "ts": ts = Number(ref r, at, "ts"); break;
                case "dur": dur = Number(ref r, at, "dur"); break;
                case "args": args = ReadArgs(ref r, json, at); break;
                default: r.Skip(); break;
            }
        }
        if (ph != "X" || name is null) return; // metadata, flows, instants, counters
        var kind = Category(cat);
        if (kind is null)
        {
            _dropped[cat ?? "(none)"] = _dropped.GetValueOrDefault(cat ?? "(none)") + 1;
            return;
        }
        if (double.IsNaN(ts)) throw new SimInputException(shown, "traceEvents", $"byte {at}: event '{Intern(name)}' has no ts");
        if (dur < 0) throw new SimInputException(shown, "traceEvents", $"byte {at}: event '{Intern(name)}' has a negative dur ({dur.ToString(CultureInfo.InvariantCulture)})");
        switch (kind.Value)
        {
            case Kept.CpuOp:
            case Kept.Annotation:
                _ops.Add(new CpuOp(Intern(name), Intern($"{pid}/{tid}"), ts, dur, args.ExternalId, args.Sequence,
                    args.InputDims, args.InputTypes is null ? null : Intern(args.InputTypes), args.Collective, kind == Kept.Annotation));
                break;
            default:
                var work = kind == Kept.Memcpy ? GpuWorkKind.Memcpy : kind == Kept.Memset ? GpuWorkKind.Memset : GpuWorkKind.Kernel;
                _kernels.Add(new GpuKernel(Intern(name), work, ts, dur, args.ExternalId, args.Correlation, args.Device, Intern(args.Stream ?? tid ?? ""), args.Collective));
                break;
        }
    }

    private enum Kept { CpuOp, Annotation, Kernel, Memcpy, Memset }

    /// <summary>The categories Sim keeps; older traces (PyTorch 1.8-1.9) spell them differently.</summary>
    private static Kept? Category(string? cat) => cat?.ToLowerInvariant() switch
    {
        "cpu_op" or "operator" => Kept.CpuOp,
        "user_annotation" => Kept.Annotation,
        "kernel" => Kept.Kernel,
        "gpu_memcpy" or "memcpy" => Kept.Memcpy,
        "gpu_memset" or "memset" => Kept.Memset,
        _ => null,
    };

    private string Intern(string s)
    {
        if (_names.TryGetValue(s, out var v)) return v;
        _names[s] = s;
        return s;
    }

    private static string? Text(ref Utf8JsonReader r) => r.TokenType switch
    {
        JsonTokenType.String => r.GetString(),
        JsonTokenType.Number => r.TryGetInt64(out var l) ? l.ToString(CultureInfo.InvariantCulture) : r.GetDouble().ToString("R", CultureInfo.InvariantCulture),
        JsonTokenType.StartObject or JsonTokenType.StartArray => Skipped(ref r),
        _ => null,
    };

    private static string? Skipped(ref Utf8JsonReader r) { r.Skip(); return null; }

    private double Number(ref Utf8JsonReader r, long at, string field)
    {
        if (r.TokenType == JsonTokenType.Number) return r.GetDouble();
        // Some exporters write timestamps as strings of digits.
        if (r.TokenType == JsonTokenType.String && double.TryParse(r.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)) return v;
        throw new SimInputException(shown, "traceEvents", $"byte {at}: {field} is not a number");
    }

    private struct EventArgs
    {
        public long? ExternalId, Correlation, Sequence;
        public int Device;
        public string? Stream, InputDims, InputTypes;
        public TraceCollective? Collective;
    }

    private EventArgs ReadArgs(ref Utf8JsonReader r, ReadOnlySpan<byte> json, long at)
    {
        var a = new EventArgs();
        if (r.TokenType != JsonTokenType.StartObject) { r.Skip(); return a; }
        string? coll = null, dtype = null, ranks = null;
        long inElems = 0, outElems = 0;
        var group = 0;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            var key = r.GetString();
            r.Read();
            switch (key)
            {
                case "External id": a.ExternalId = Long(ref r); break;
                case "correlation": a.Correlation = Long(ref r); break;
                case "Sequence number": a.Sequence = Long(ref r); break;
                case "device": a.Device = (int)(Long(ref r) ?? 0); break;
                case "stream": a.Stream = Text(ref r); break;
                case "Input Dims": a.InputDims = Raw(ref r, json); break;
                case "Input type": a.InputTypes = Raw(ref r, json); break;
                case "Collective name": coll = Text(ref r); break;
                case "In msg nelems": inElems = Long(ref r) ?? 0; break;
                case "Out msg nelems": outElems = Long(ref r) ?? 0; break;
                case "Group size": group = (int)(Long(ref r) ?? 0); break;
                case "dtype": dtype = Text(ref r); break;
                case "Process Group Ranks": ranks = Text(ref r); break;
                default: r.Skip(); break;
            }
        }
        if (coll is not null) a.Collective = new TraceCollective(Intern(coll), inElems, outElems, group, Intern(dtype ?? ""), ranks is null ? null : Intern(ranks));
        return a;
    }

    private static long? Long(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.Number) return r.TryGetInt64(out var l) ? l : (long)r.GetDouble();
        if (r.TokenType == JsonTokenType.String && long.TryParse(r.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)) return s;
        if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) r.Skip();
        return null;
    }

    /// <summary>A value's JSON text as written (shapes are parsed only for the operators that need them).</summary>
    private static string? Raw(ref Utf8JsonReader r, ReadOnlySpan<byte> json)
    {
        var start = (int)r.TokenStartIndex;
        if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) r.Skip();
        return KinetoReader.Utf8(json[start..(int)r.BytesConsumed]);
    }
}
