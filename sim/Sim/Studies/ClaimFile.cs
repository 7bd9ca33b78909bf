using Sim.Config;
using Sim.Workload;
using Sim.Hardware;

namespace Sim.Studies;

/// <summary>How Sim computes a claim's counterpart (the `sim:` map of a claim).</summary>
internal enum ClaimMethod
{
    /// <summary>The planner's plan passes the memory check (HBM per GPU, DDR per node).</summary>
    Fits,
    /// <summary>Samples/s on <see cref="ClaimSpec.Topology"/> over samples/s on <see cref="ClaimSpec.BaselineTopology"/>.</summary>
    PlatformRatio,
    /// <summary>Samples/s with the <see cref="ClaimSpec.Improved"/> dtypes over samples/s with the <see cref="ClaimSpec.Baseline"/> dtypes.</summary>
    PrecisionGain,
    /// <summary>Embedding plus dense parameters of the workload file.</summary>
    Parameters,
    /// <summary>Dense forward MFLOPs per sample of the workload file.</summary>
    Mflops,
}

/// <summary>Dtypes a precision claim sets; null keeps the workload's own.</summary>
internal sealed record PrecisionKnobs(DType? Compute, DType? Communication, DType? Tables)
{
    public string Describe() => string.Join(", ", new[]
    {
        Compute is { } c ? $"compute {c.Name()}" : null,
        Communication is { } m ? $"collectives {m.Name()}" : null,
        Tables is { } t ? $"rows {t.Name()}" : null,
    }.Where(s => s is not null));
}

/// <summary>The inputs of a claim's Sim counterpart; paths are relative to the repository root.</summary>
internal sealed record ClaimSpec(
    ClaimMethod Method,
    string Workload,
    string? Topology = null,
    string? BaselineTopology = null,
    string Planner = "greedy",
    int? Nodes = null,
    PrecisionKnobs? Baseline = null,
    PrecisionKnobs? Improved = null);

/// <summary>One published result: what it says, its value (null when it is not a number), where it comes from, how Sim computes its counterpart.</summary>
internal sealed record Claim(string Id, string Text, double? Value, string Unit, string PaperText, string Source, string Class, ClaimSpec Sim, string How);

/// <summary>A published result Sim cannot check, and why.</summary>
internal sealed record UncheckableClaim(string Id, string Text, string Source, string Class, string Reason);

/// <summary>Sim's own scaling curve (no paper values beside it unless the file gives them).</summary>
internal sealed record ScalingSpec(string Topology, string Workload, string Planner, IReadOnlyList<int> Nodes, long SamplesPerGpu);

/// <summary>A study's claims file (validation/published/STUDY/claims.yaml).</summary>
internal sealed record ClaimFile(string Study, string Paper, IReadOnlyList<Claim> Claims, IReadOnlyList<UncheckableClaim> CannotCheck, ScalingSpec? Scaling)
{
    private static readonly IReadOnlyDictionary<string, ClaimMethod> Methods = new Dictionary<string, ClaimMethod>
    {
        ["fits"] = ClaimMethod.Fits, ["platform_ratio"] = ClaimMethod.PlatformRatio, ["precision_gain"] = ClaimMethod.PrecisionGain,
        ["parameters"] = ClaimMethod.Parameters, ["mflops"] = ClaimMethod.Mflops,
    };

    public static ClaimFile Load(string path)
    {
        var doc = YamlDocument.LoadFile(path);
        var study = doc.RequireString("study");
        var paper = doc.RequireString("paper");
        var claims = new List<Claim>();
        foreach (var node in doc.RequireList("claims"))
        {
            var m = doc.AsMap(node, "claims[]");
            var id = m.RequireString("id");
            var sim = m.RequireMap("sim");
            var method = sim.RequireEnum("method", Methods);
            var spec = new ClaimSpec(method, sim.RequireString("workload"), sim.OptionalString("topology"), sim.OptionalString("baseline_topology"),
                sim.OptionalString("planner") ?? "greedy", sim.Has("nodes") ? sim.RequireInt("nodes", 1, 1_000_000) : null,
                Knobs(sim.OptionalMap("baseline")), Knobs(sim.OptionalMap("improved")));
            if ((method is ClaimMethod.Fits or ClaimMethod.PlatformRatio or ClaimMethod.PrecisionGain) && spec.Topology is null)
                throw sim.Error("topology", "required for this method");
            if (method == ClaimMethod.PlatformRatio && spec.BaselineTopology is null)
                throw sim.Error("baseline_topology", "required for platform_ratio");
            if (method == ClaimMethod.PrecisionGain && (spec.Baseline is null || spec.Improved is null))
                throw sim.Error("baseline", "precision_gain needs baseline and improved dtypes");
            sim.EnsureNoUnknownKeys();
            double? value = m.Has("value") ? m.RequirePositive("value") : null;
            claims.Add(new Claim(id, m.RequireString("claim"), value, m.OptionalString("unit") ?? "", m.RequireString("paper"),
                m.RequireString("source"), m.RequireString("class"), spec, m.RequireString("how")));
            m.EnsureNoUnknownKeys();
        }
        var cannot = new List<UncheckableClaim>();
        foreach (var node in doc.OptionalList("cannot_check") ?? [])
        {
            var m = doc.AsMap(node, "cannot_check[]");
            cannot.Add(new UncheckableClaim(m.RequireString("id"), m.RequireString("claim"), m.RequireString("source"), m.RequireString("class"), m.RequireString("reason")));
            m.EnsureNoUnknownKeys();
        }
        ScalingSpec? scaling = null;
        if (doc.OptionalMap("scaling") is { } s)
        {
            scaling = new ScalingSpec(s.RequireString("topology"), s.RequireString("workload"), s.OptionalString("planner") ?? "greedy",
                s.RequireLongList("nodes", 1, 1_000_000).Select(n => (int)n).ToArray(), s.RequireLong("samples_per_gpu", 1, 1L << 30));
            s.EnsureNoUnknownKeys();
        }
        doc.EnsureNoUnknownKeys();
        return new ClaimFile(study, paper, claims, cannot, scaling);
    }

    private static PrecisionKnobs? Knobs(YamlMap? m)
    {
        if (m is null) return null;
        DType? D(string key) => m.Has(key) ? m.RequireEnum(key, DTypes.Words) : null;
        var k = new PrecisionKnobs(D("compute"), D("communication"), D("tables"));
        m.EnsureNoUnknownKeys();
        return k;
    }
}
