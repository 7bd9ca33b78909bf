using System.Text.Json;
using System.Text.Json.Serialization;
using Sim.Config;
using Sim.Cost;

namespace Sim.Calibration;

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
    string Source)
{
    /// <summary>The cost parameters with this profile's fitted values.</summary>
    public CostParameters ToCostParameters() => Parameters.Apply(CostParameters.Default) with { Source = Source };
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

public static class CalibrationProfileJson
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Write(CalibrationProfile p) => JsonSerializer.Serialize(p, Options);

    public static CalibrationProfile Read(string path)
    {
        var shown = YamlDocument.DisplayName(path);
        if (!File.Exists(path)) throw new SimInputException(shown, "", "file not found");
        try
        {
            var profile = JsonSerializer.Deserialize<CalibrationProfile>(File.ReadAllText(path), Options)
                ?? throw new SimInputException(shown, "", "expected a calibration profile object");
            CalibrationProfileCheck.Check(profile, shown);
            return profile;
        }
        catch (JsonException e)
        {
            throw new SimInputException(shown, (e.Path ?? "").TrimStart('$', '.'), $"not a calibration profile: {e.Message.Split(" Path:")[0]}");
        }
    }
}
