namespace Sim.Hardware;

/// <summary>Where a hardware number came from: a spec sheet, a paper, a calibration run.</summary>
public sealed record Provenance(string Source)
{
    public static readonly Provenance Default = new("built-in default (uncalibrated)");
}
