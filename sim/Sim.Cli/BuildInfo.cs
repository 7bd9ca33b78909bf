namespace Sim.Cli;

/// <summary>How this `sim` was built: benchmarks say it, since a Debug build runs 3-7x slower than Release.</summary>
internal static class BuildInfo
{
#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif
}
