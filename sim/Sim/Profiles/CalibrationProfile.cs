using System.Text.Json;
using System.Text.Json.Serialization;
using Sim.Config;
using Sim.Cost;
using Sim.Cost.Operators;

namespace Sim.Profiles;

/// <summary>One fitted quantity's residuals: relative errors of the fitted model on the points it was fitted to.</summary>
public sealed record Residuals(string Quantity, int Points, double MeanAbsoluteRelativeError, double MaxAbsoluteRelativeError);

/// <summary>
/// What calibration produced for one (card, GPU count, software) group: the fitted cost parameters, the
/// residuals they left, the cross-validated error of end-to-end predictions, and the measurement files they came from.
/// A profile is data: `sim predict --profile` and `sim validate --profile` read it.
/// </summary>
public sealed record CalibrationProfile(
    string Card,
    int GpuCount,
    string Software,
    string Topology,
    IReadOnlyList<string> Runs,
    CalibratedParameters Parameters,
    IReadOnlyList<Residuals> Residuals,
    double IterationErrorBand,
    string Source,
    IReadOnlyList<Cost.Operators.OperatorModels>? Operators = null,
    ProfileDomain? Domain = null)
{
    /// <summary>
    /// The cost parameters with this profile's fitted values and the operator models of <paramref name="stack"/>
    /// (a measured stack name, or "eager"/"fused" for the first measured stack of that form; null: the first).
    /// </summary>
    public CostParameters ToCostParameters(string? stack = null) =>
        Parameters.Apply(CostParameters.Default) with { Source = Source, Operators = OperatorsFor(stack) };

    /// <summary>
    /// The cost parameters for a cluster's GPU: on another card than the measured one (and where the profile knows the
    /// measured card's spec), the operator models are transferred to it (<see cref="OperatorModels.TransferredTo"/>).
    /// </summary>
    public CostParameters ToCostParameters(string? stack, Hardware.GpuSpec target)
    {
        var p = ToCostParameters(stack);
        return Transfer(target) is { } t && p.Operators is { } o ? p with { Operators = o.TransferredTo(t.PerByte, t.PerFlop) } : p;
    }

    /// <summary>
    /// How the target card's time per byte and per FLOP compare with the measured card's (spec-sheet ratios), or null
    /// when it is the same card (or the profile does not know its card's spec).
    /// </summary>
    public (double PerByte, double PerFlop)? Transfer(Hardware.GpuSpec target)
    {
        if (Domain is not { CardHbmBytesPerSecond: { } bw, CardPeakFlopsPerSecond: { } flops }) return null;
        if (Extrapolations.SameCard(Domain.Card, target.Model)) return null;
        return (bw / target.HbmBytesPerSecond, flops / target.PeakFlops(Hardware.DType.Fp32));
    }

    /// <summary>
    /// This profile with another profile's measured collectives (curves, fitted link efficiency and overhead), for a card
    /// whose collectives could not be measured but run on the same interconnect; the domain records where they came from.
    /// </summary>
    public CalibrationProfile WithCollectivesFrom(CalibrationProfile other, string otherName) => this with
    {
        Parameters = Parameters with
        {
            Collectives = other.Parameters.Collectives,
            IntraNodeCollectiveEfficiency = other.Parameters.IntraNodeCollectiveEfficiency,
            CollectiveOverheadSeconds = other.Parameters.CollectiveOverheadSeconds,
        },
        Residuals = [.. Residuals, .. other.Residuals.Where(r => r.Quantity.Contains(" x", StringComparison.Ordinal) && r.Quantity.Contains("MiB", StringComparison.Ordinal))
            .Select(r => r with { Quantity = $"{r.Quantity}, measured with {otherName}" })],
        Domain = Domain is null ? null : Domain with
        {
            CollectiveGpuCounts = other.Parameters.Collectives.Select(f => f.WorldSize).Distinct().Order().ToList(),
            CollectivesFrom = $"{other.Domain?.Card ?? other.Card} ({otherName})",
        },
        Source = $"{Source}; collectives from {otherName}",
    };

    /// <summary>The operator models for a stack: its exact measured name, else the first of its form; null when the profile has none.</summary>
    public Cost.Operators.OperatorModels? OperatorsFor(string? stack) => PickOperators(Operators, stack);

    /// <summary>
    /// Of fitted operator models, those of a stack: its exact measured name; "eager" (or none) the plain-PyTorch one; else
    /// the first of the stack's form. Null when there are none.
    /// </summary>
    public static Cost.Operators.OperatorModels? PickOperators(IReadOnlyList<Cost.Operators.OperatorModels>? operators, string? stack)
    {
        if (operators is not { Count: > 0 } ops) return null;
        if (stack is null) return ops.FirstOrDefault(o => o.MeasuredStack == Cost.Operators.MeasurementStacks.PytorchEager) ?? ops[0];
        return ops.FirstOrDefault(o => o.MeasuredStack == stack)
            ?? (stack == "eager" ? ops.FirstOrDefault(o => o.MeasuredStack == Cost.Operators.MeasurementStacks.PytorchEager) : null)
            ?? ops.FirstOrDefault(o => o.Form == stack)
            ?? ops.FirstOrDefault(o => o.Form == Cost.Operators.SoftwareStacks.FormOf(stack).Name());
    }
}

/// <summary>
/// Where a profile's numbers hold (with <see cref="CardHbmBytesPerSecond"/> and <see cref="CardPeakFlopsPerSecond"/>, the
/// spec-sheet HBM bandwidth and fp32 peak of the measured card, which a transfer to another card scales by; and
/// <see cref="CollectivesFrom"/>, the card and profile the collective curves were taken from when not measured here): the card and software they were measured with, the stacks, optimizers and dtypes
/// measured, the GPU counts of its collectives and the size ranges of its operator grid. A prediction outside it
/// names each extrapolation.
/// </summary>
public sealed record ProfileDomain(
    string Card,
    string Driver,
    string Cuda,
    string Nccl,
    string Libtorch,
    IReadOnlyList<string> Stacks,
    IReadOnlyList<string> Optimizers,
    IReadOnlyList<string> Dtypes,
    IReadOnlyList<int> CollectiveGpuCounts,
    ValueRange LookupsPerCall,
    ValueRange Dim,
    ValueRange Batch,
    double? CardHbmBytesPerSecond = null,
    double? CardPeakFlopsPerSecond = null,
    string? CollectivesFrom = null);

/// <summary>The smallest and largest value measured.</summary>
public sealed record ValueRange(double Min, double Max)
{
    public bool Contains(double v) => v >= Min && v <= Max;
    public static ValueRange Of(IEnumerable<double> values)
    {
        var l = values.ToList();
        return l.Count == 0 ? new ValueRange(0, 0) : new ValueRange(l.Min(), l.Max());
    }
}

/// <summary>The serialisable subset of <see cref="CostParameters"/> that calibration fits.</summary>
public sealed record CalibratedParameters(
    double GemmEfficiency,
    double GemmHalfSaturationFlops,
    double EmbeddingEfficiency,
    double EmbeddingBackwardEfficiency,
    double EmbeddingBackwardShardSeconds,
    double RowSplitBucketiseSeconds,
    double KernelOverheadSeconds,
    double IntraNodeCollectiveEfficiency,
    double CollectiveOverheadSeconds,
    IReadOnlyList<CollectiveFit> Collectives,
    IReadOnlyDictionary<string, PhaseCorrection> PhaseCorrections)
{
    public CostParameters Apply(CostParameters p) => p with
    {
        GemmEfficiency = GemmEfficiency,
        GemmHalfSaturationFlops = GemmHalfSaturationFlops,
        EmbeddingEfficiency = EmbeddingEfficiency,
        EmbeddingBackwardEfficiency = EmbeddingBackwardEfficiency,
        EmbeddingBackwardShardSeconds = EmbeddingBackwardShardSeconds,
        RowSplitBucketiseSeconds = RowSplitBucketiseSeconds,
        KernelOverheadSeconds = KernelOverheadSeconds,
        IntraNodeCollectiveEfficiency = IntraNodeCollectiveEfficiency,
        CollectiveOverheadSeconds = CollectiveOverheadSeconds,
        CollectiveFits = Collectives,
        PhaseCorrections = PhaseCorrections,
    };
}

internal static class CalibrationProfileJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        AllowDuplicateProperties = false,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    private static readonly Lazy<IReadOnlyCollection<string>> Fields = new(() => JsonInput.FieldNames(Schema()));

    public static string Write(CalibrationProfile p) => JsonSerializer.Serialize(p, Options);

    /// <summary>The JSON Schema of a calibration profile, from the types.</summary>
    public static string Schema() => JsonSchemas.Of(typeof(CalibrationProfile), Options, "Sim calibration profile (validation/profiles)");

    public static CalibrationProfile Read(string path)
    {
        var shown = YamlDocument.DisplayName(path);
        if (!File.Exists(path)) throw new SimInputException(shown, "", "file not found");
        return Parse(InputFile.ReadText(path, shown), shown);
    }

    /// <summary>A profile from its JSON text; <paramref name="shown"/> names it in errors.</summary>
    public static CalibrationProfile Parse(string json, string shown)
    {
        try
        {
            var profile = JsonSerializer.Deserialize<CalibrationProfile>(json, Options)
                ?? throw new SimInputException(shown, "", "expected a calibration profile object");
            CalibrationProfileCheck.Check(profile, shown);
            return profile;
        }
        catch (JsonException e)
        {
            // file:line:col as for YAML inputs (JSON counts from 0).
            throw JsonInput.Error(e, shown, "", Fields.Value);
        }
    }
}

/// <summary>
/// The operator models Sim uses for the eager stack when no profile is given: the committed profile measured on
/// 1 x H200 (validation/profiles/h200x1.json, built into the library), transferred to the cluster's card by spec ratios.
/// Every prediction made with it says so.
/// </summary>
internal static class BuiltInProfile
{
    public const string Name = "validation/profiles/h200x1.json";

    private static readonly Lazy<CalibrationProfile> Profile = new(() =>
    {
        using var stream = typeof(BuiltInProfile).Assembly.GetManifestResourceStream("built-in-profile.json")
            ?? throw new InvalidOperationException("the built-in profile is missing from the library");
        using var reader = new StreamReader(stream);
        var p = CalibrationProfileJson.Parse(reader.ReadToEnd(), Name);
        return p with { Source = $"built-in operator models measured on {p.Domain?.Card ?? p.Card} ({Name}), no --profile given" };
    });

    public static CalibrationProfile Value => Profile.Value;
}
