using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using Sim.Harness.Backends;
using TorchSharp;
using Sim.Measurements;

namespace Sim.Harness;

/// <summary>Collects a measurement's provenance: device, driver, CUDA, NCCL, libtorch, TorchSharp, commit, command. No host names, no paths.</summary>
public static partial class ProvenanceInfo
{
    public static MeasurementProvenance Collect(IBackend backend, IReadOnlyList<string> args, string dateUtc)
    {
        var command = "harness " + string.Join(" ", args.Select(Quote));
        var torchSharp = typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
            ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";
        var dotnet = Environment.Version.ToString();
        var libtorch = LibtorchVersion();
        var commit = GitCommit();
        if (backend.Name != "cuda")
            return new MeasurementProvenance("cpu", "cpu", 0, "", "", "", "", libtorch, torchSharp, dotnet, dateUtc, commit, command);

        var (model, driver) = GpuFromNvidiaSmi();
        model ??= CudaDriver.DeviceName(0) ?? "unknown";
        driver ??= DriverFromProc() ?? "unknown";
        var cuda = Cuda.cudaRuntimeGetVersion(out var rt) == 0 ? Cuda.FormatVersion(rt) : "unknown";
        var cudaDriver = Cuda.cudaDriverGetVersion(out var dv) == 0 ? Cuda.FormatVersion(dv) : "unknown";
        string nccl;
        // Backends.Nccl, qualified: the namespace Sim.Nccl (the collective vocabulary) would shadow it here.
        try { nccl = Backends.Nccl.Version(); } catch (Exception) { nccl = "unavailable"; }
        return new MeasurementProvenance("cuda", model, backend.MaxWorld, driver, cuda, cudaDriver, nccl, libtorch, torchSharp, dotnet, dateUtc, commit, command);
    }

    private static string Quote(string a) =>
        a.Length > 0 && a.All(c => char.IsLetterOrDigit(c) || "-_./=:,+@%".Contains(c)) ? a : "'" + a.Replace("'", "'\\''") + "'";

    /// <summary>The first GPU's name and the driver release, from nvidia-smi when it is there.</summary>
    private static (string? Model, string? Driver) GpuFromNvidiaSmi()
    {
        try
        {
            var psi = new ProcessStartInfo("nvidia-smi", "--query-gpu=name,driver_version --format=csv,noheader")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var p = Process.Start(psi);
            if (p is null) return (null, null);
            var text = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(10_000) || p.ExitCode != 0) return (null, null);
            var first = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
            if (first is null) return (null, null);
            var parts = first.Split(',', StringSplitOptions.TrimEntries);
            return parts.Length >= 2 ? (parts[0], parts[1]) : (parts[0], null);
        }
        catch (Exception) { return (null, null); }
    }

    private static string? DriverFromProc()
    {
        try
        {
            var text = File.ReadAllText("/proc/driver/nvidia/version");
            var m = DriverRegex().Match(text);
            return m.Success ? m.Groups[1].Value : null;
        }
        catch (Exception) { return null; }
    }

    /// <summary>
    /// The libtorch actually loaded: HARNESS_LIBTORCH_VERSION if set (the GPU scripts set it from the PyTorch
    /// install), else the version.py beside a PyTorch wheel's torch/lib, else the version TorchSharp was built for.
    /// </summary>
    public static string LibtorchVersion()
    {
        var env = Environment.GetEnvironmentVariable("HARNESS_LIBTORCH_VERSION");
        if (!string.IsNullOrWhiteSpace(env)) return env.Trim();
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                var i = line.IndexOf('/');
                if (i < 0 || !line.EndsWith("/libtorch_cpu.so", StringComparison.Ordinal)) continue;
                var lib = Path.GetDirectoryName(line[i..])!;
                var versionPy = Path.Combine(lib, "..", "version.py");
                if (File.Exists(versionPy))
                {
                    var m = VersionPyRegex().Match(File.ReadAllText(versionPy));
                    if (m.Success) return m.Groups[1].Value;
                }
                break;
            }
        }
        catch (Exception) { }
        return $"{torch.__version__} (TorchSharp's libtorch)";
    }

    /// <summary>HARNESS_GIT_COMMIT, else git-commit.txt beside the harness (written by validation/gpu/publish.sh), else git.</summary>
    public static string GitCommit()
    {
        var env = Environment.GetEnvironmentVariable("HARNESS_GIT_COMMIT");
        if (!string.IsNullOrWhiteSpace(env)) return env.Trim();
        try
        {
            var file = Path.Combine(AppContext.BaseDirectory, "git-commit.txt");
            if (File.Exists(file)) return File.ReadAllText(file).Trim();
        }
        catch (Exception) { }
        var head = RunGit("rev-parse HEAD");
        if (head is null) return "unknown";
        var status = RunGit("status --porcelain --untracked-files=no");
        return string.IsNullOrEmpty(status) ? head : head + "+dirty";
    }

    private static string? RunGit(string args)
    {
        try
        {
            var psi = new ProcessStartInfo("git", args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            if (p is null) return null;
            var text = p.StandardOutput.ReadToEnd();
            p.StandardError.ReadToEnd();
            return p.WaitForExit(10_000) && p.ExitCode == 0 ? text.Trim() : null;
        }
        catch (Exception) { return null; }
    }

    [GeneratedRegex(@"Kernel Module\s+(?:for\s+\S+\s+)?([0-9][0-9.]+)")]
    private static partial Regex DriverRegex();

    [GeneratedRegex(@"__version__\s*(?::\s*\w+\s*)?=\s*['""]([^'""]+)['""]")]
    private static partial Regex VersionPyRegex();
}
