using System.Globalization;
using System.Text.Json;
using Sim.Cost.Operators;
using Sim.Measurements;
using Sim.Nccl;

namespace Sim.Traces;

/// <summary>Device time a trace holds in one class of work, and in how many kernels.</summary>
internal sealed record TraceTime(string What, long Kernels, double Seconds);

/// <summary>
/// What a trace offers calibration: one <see cref="OperatorResult"/> per operator call whose shapes the trace
/// recorded (the same records microbenchmarks write, so the same fitters read them), the collectives' kernel times by
/// size, the device time by class, and the kernels it could not map with their time.
/// </summary>
internal sealed record TraceOperators(
    IReadOnlyList<OperatorResult> Operators,
    IReadOnlyList<CollectiveResult> Collectives,
    IReadOnlyList<TraceTime> Mapped,
    IReadOnlyList<TraceTime> Unmapped,
    IReadOnlyList<string> Notes)
{
    public double MappedSeconds => Mapped.Sum(m => m.Seconds);
    public double UnmappedSeconds => Unmapped.Sum(m => m.Seconds);

    /// <summary>Reads the operator calls of a trace made by <paramref name="stack"/> with <paramref name="optimizer"/>.</summary>
    public static TraceOperators Of(KinetoTrace t, string stack, string optimizer)
    {
        var byOwner = new Dictionary<(TraceOpClass, int), (double Seconds, string? Coll)>();
        var mapped = new Dictionary<string, (long N, double S)>(StringComparer.Ordinal);
        var unmapped = new Dictionary<string, (long N, double S)>(StringComparer.Ordinal);
        foreach (var k in t.Kernels)
        {
            var c = KernelClasses.Of(t, k);
            var seconds = k.DurationMicros * 1e-6;
            if (c.Class == TraceOpClass.Unmapped)
            {
                var key = k.Kind == GpuWorkKind.Kernel ? ShortName(k.Name) : k.Kind.ToString().ToLowerInvariant();
                unmapped[key] = (unmapped.GetValueOrDefault(key).N + 1, unmapped.GetValueOrDefault(key).S + seconds);
                continue;
            }
            var what = c.Class == TraceOpClass.Collective ? $"collective {c.CollectiveOp}" : Words(c.Class);
            mapped[what] = (mapped.GetValueOrDefault(what).N + 1, mapped.GetValueOrDefault(what).S + seconds);
            if (c.Owner >= 0)
                byOwner[(c.Class, c.Owner)] = (byOwner.GetValueOrDefault((c.Class, c.Owner)).Seconds + seconds, c.CollectiveOp);
        }

        var notes = new List<string>();
        var ops = new List<OperatorResult>();
        var colls = new List<CollectiveResult>();
        var forwardBySequence = ForwardOps(t);
        var noShape = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var ((cls, owner), (seconds, coll)) in byOwner.OrderBy(p => t.Ops[p.Key.Item2].StartMicros).ThenBy(p => p.Key.Item1))
        {
            var op = t.Ops[owner];
            var host = op.DurationMicros * 1e-6;
            OperatorResult? r = cls switch
            {
                TraceOpClass.EmbeddingForward => Embedding(OperatorNames.EmbeddingForward, op, null),
                TraceOpClass.EmbeddingBackward => Forward(t, owner, forwardBySequence) is { } f ? Embedding(OperatorNames.EmbeddingBackward, t.Ops[f], optimizer) : null,
                TraceOpClass.LinearForward => Linear(OperatorNames.LinearForward, op),
                TraceOpClass.LinearBackward => Forward(t, owner, forwardBySequence) is { } f ? Linear(OperatorNames.LinearBackward, t.Ops[f]) : null,
                TraceOpClass.InteractionForward => Interaction(OperatorNames.InteractionForward, op),
                TraceOpClass.InteractionBackward => Forward(t, owner, forwardBySequence) is { } f ? Interaction(OperatorNames.InteractionBackward, t.Ops[f]) : null,
                _ => null,
            };
            if (cls == TraceOpClass.Collective && op.Collective is { } cc && coll is not null && coll != "other" && cc.GroupSize > 1)
            {
                colls.Add(CollectiveResult.Create(coll, cc.GroupSize, cc.InElements * DtypeBytes(cc.Dtype), seconds));
                ops.Add(new OperatorResult(OperatorNames.CollectiveCall, stack, "fp32", null,
                    new Dictionary<string, double> { ["all_to_all"] = coll == CollectiveOps.AllToAllName ? 1 : 0, ["bytes"] = cc.InElements * DtypeBytes(cc.Dtype) }, seconds, host));
                continue;
            }
            if (r is null)
            {
                if (cls is not (TraceOpClass.Collective or TraceOpClass.DenseOptimizer or TraceOpClass.SparseOptimizer))
                    noShape[Words(cls)] = noShape.GetValueOrDefault(Words(cls)) + 1;
                continue;
            }
            ops.Add(r with { Stack = stack, DeviceSeconds = seconds, HostSeconds = host });
            // A linear layer's forward GEMM is also a point of the GEMM grid.
            if (cls == TraceOpClass.LinearForward && op.Name is "aten::linear" or "aten::addmm")
                ops.Add(new OperatorResult(OperatorNames.Gemm, stack, r.Dtype, null, new Dictionary<string, double>
                {
                    ["m"] = r.Shape["batch"], ["k"] = r.Shape["in"], ["n"] = r.Shape["out"],
                }, seconds, host));
        }
        ops = WithSparseSteps(ops, stack, byOwner.Where(p => p.Key.Item1 == TraceOpClass.SparseOptimizer)
            .Select(p => (p.Value.Seconds, t.Ops[p.Key.Item2].DurationMicros * 1e-6)).ToList(), notes);
        foreach (var (what, n) in noShape.OrderBy(p => p.Key, StringComparer.Ordinal))
            notes.Add($"{n} {what} call(s) without recorded input shapes (profile with record_shapes=True): their time is mapped, not fitted");
        return new TraceOperators(ops, colls,
            mapped.OrderByDescending(p => p.Value.S).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => new TraceTime(p.Key, p.Value.N, p.Value.S)).ToList(),
            unmapped.OrderByDescending(p => p.Value.S).ThenBy(p => p.Key, StringComparer.Ordinal).Select(p => new TraceTime(p.Key, p.Value.N, p.Value.S)).ToList(),
            notes);
    }

    /// <summary>
    /// On an eager stack the sparse optimizer steps after autograd, as its own calls, and Sim's eager embedding
    /// backward includes it (as the microbenchmark measures it). The steps' device and host time is shared among the
    /// backward calls by their lookup bytes: the step runs over the uncoalesced gradient, one row per lookup.
    /// </summary>
    private static List<OperatorResult> WithSparseSteps(List<OperatorResult> ops, string stack, List<(double Device, double Host)> steps, List<string> notes)
    {
        if (Cost.Operators.SoftwareStacks.FormOf(stack) != Cost.Operators.SoftwareStack.Eager) return ops;
        var backward = ops.Where(o => o.Op == OperatorNames.EmbeddingBackward).ToList();
        if (backward.Count == 0) return ops;
        if (steps.Count == 0)
        {
            notes.Add("no sparse optimizer step found (an `Optimizer.step#...` range over sparse parameters): the eager embedding backward is fitted without it");
            return ops;
        }
        double device = steps.Sum(s => s.Device), host = steps.Sum(s => s.Host);
        double Weight(OperatorResult o) => o.Shape["batch"] * o.Shape["pooling"] * o.Shape["dim"];
        var total = backward.Sum(Weight);
        notes.Add($"sparse optimizer: {steps.Count} step(s), {Ms(device)} on the device, shared among {backward.Count} embedding backward call(s) by lookup bytes");
        return ops.Select(o => o.Op != OperatorNames.EmbeddingBackward ? o
            : o with { DeviceSeconds = o.DeviceSeconds + device * Weight(o) / total, HostSeconds = o.HostSeconds + host * Weight(o) / total }).ToList();
    }

    public static string Words(TraceOpClass c) => c switch
    {
        TraceOpClass.EmbeddingForward => "embedding forward",
        TraceOpClass.EmbeddingBackward => "embedding backward",
        TraceOpClass.SparseOptimizer => "sparse optimizer",
        TraceOpClass.DenseOptimizer => "dense optimizer",
        TraceOpClass.LinearForward => "linear forward",
        TraceOpClass.LinearBackward => "linear backward",
        TraceOpClass.InteractionForward => "interaction forward",
        TraceOpClass.InteractionBackward => "interaction backward",
        TraceOpClass.Collective => "collective",
        _ => "unmapped",
    };

    /// <summary>Forward operators by autograd sequence number (the backward node carries the same number).</summary>
    private static Dictionary<long, int> ForwardOps(KinetoTrace t)
    {
        var d = new Dictionary<long, int>();
        for (var i = 0; i < t.Ops.Count; i++)
            if (t.Ops[i].SequenceNumber is { } s && t.Ops[i].InputDims is not null && !t.Ops[i].Name.Contains("Backward", StringComparison.Ordinal))
                d.TryAdd(s, i);
        return d;
    }

    /// <summary>The forward operator of a backward node: by the sequence number of the node or of an op inside it.</summary>
    private static int? Forward(KinetoTrace t, int owner, Dictionary<long, int> forward)
    {
        if (t.Ops[owner].SequenceNumber is { } s && forward.TryGetValue(s, out var f)) return f;
        // The evaluate_function range encloses the node that carries the number.
        foreach (var i in t.Descendants(owner))
            if (t.Ops[i].SequenceNumber is { } n && forward.TryGetValue(n, out var g)) return g;
        return null;
    }

    /// <summary>EmbeddingBag(weight [rows, dim], indices [n], offsets [bags], ...).</summary>
    private static OperatorResult? Embedding(string opName, CpuOp op, string? optimizer)
    {
        var d = Dims(op.InputDims);
        if (d is null || d.Count < 2 || d[0].Length != 2 || d[1].Length != 1) return null;
        double rows = d[0][0], dim = d[0][1], lookups = d[1][0];
        // Without offsets (nn.Embedding) each lookup is its own bag.
        var bags = d.Count > 2 && d[2].Length == 1 && d[2][0] > 0 ? d[2][0] : lookups;
        return new OperatorResult(opName, "", Dtype(op.InputTypes), optimizer,
            new Dictionary<string, double> { ["rows"] = rows, ["dim"] = dim, ["batch"] = bags, ["pooling"] = lookups / bags }, 0, 0);
    }

    /// <summary>aten::linear(x [batch, in], w [out, in], b) or aten::addmm(b [out], x [batch, in], w [in, out]).</summary>
    private static OperatorResult? Linear(string opName, CpuOp op)
    {
        var d = Dims(op.InputDims);
        if (d is null || d.Count < 2) return null;
        double batch, inF, outF;
        if (op.Name == "aten::addmm" && d.Count >= 3 && d[1].Length == 2 && d[2].Length == 2) (batch, inF, outF) = (d[1][0], d[1][1], d[2][1]);
        else if (op.Name == "aten::linear" && d[0].Length == 2 && d[1].Length == 2) (batch, inF, outF) = (d[0][0], d[0][1], d[1][0]);
        else return null;
        return new OperatorResult(opName, "", Dtype(op.InputTypes), null,
            new Dictionary<string, double> { ["batch"] = batch, ["in"] = inF, ["out"] = outF }, 0, 0);
    }

    /// <summary>aten::bmm(x [batch, features, dim], xᵀ [batch, dim, features]).</summary>
    private static OperatorResult? Interaction(string opName, CpuOp op)
    {
        var d = Dims(op.InputDims);
        if (d is null || d.Count < 1 || d[0].Length != 3) return null;
        return new OperatorResult(opName, "", Dtype(op.InputTypes), null,
            new Dictionary<string, double> { ["batch"] = d[0][0], ["features"] = d[0][1], ["dim"] = d[0][2] }, 0, 0);
    }

    /// <summary>The trace's "Input Dims": a list per input (a scalar is an empty list; a tensor list is a list of lists).</summary>
    internal static List<long[]>? Dims(string? raw)
    {
        if (raw is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(raw);
            if (doc.RootElement.ValueKind != JsonValueKind.Array) return null;
            return doc.RootElement.EnumerateArray().Select(a => a.ValueKind == JsonValueKind.Array
                ? a.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Number).Select(x => x.GetInt64()).ToArray()
                : []).ToList();
        }
        catch (JsonException) { return null; }
    }

    /// <summary>Sim's dtype name of an operator's first input ("float" is fp32).</summary>
    private static string Dtype(string? types)
    {
        var first = types is null ? "" : types.TrimStart('[', ' ', '"');
        if (first.StartsWith("c10::Half", StringComparison.Ordinal) || first.StartsWith("Half", StringComparison.Ordinal)) return "fp16";
        if (first.StartsWith("c10::BFloat16", StringComparison.Ordinal) || first.StartsWith("BFloat16", StringComparison.Ordinal)) return "bf16";
        return "fp32";
    }

    private static long DtypeBytes(string dtype) => dtype switch
    {
        "Half" or "BFloat16" or "c10::Half" or "c10::BFloat16" => 2,
        "Double" or "Long" => 8,
        "Char" or "Byte" or "Bool" => 1,
        _ => 4,
    };

    /// <summary>A kernel's name without its template arguments and parameters, for the unmapped list.</summary>
    public static string ShortName(string kernel)
    {
        var s = (kernel.StartsWith("void ", StringComparison.Ordinal) ? kernel[5..] : kernel).Replace("(anonymous namespace)::", "", StringComparison.Ordinal);
        var cut = s.IndexOfAny(['<', '(']);
        s = (cut > 0 ? s[..cut] : s).Trim();
        // Mangled names (_ZN...) run to thousands of characters.
        return s.Length > MaxNameLength ? s[..MaxNameLength] + "..." : s;
    }

    private const int MaxNameLength = 80;

    internal static string Ms(double seconds) => (seconds * 1e3).ToString("0.###", CultureInfo.InvariantCulture) + " ms";
}
