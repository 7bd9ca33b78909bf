namespace Sim.Benchmarks;

/// <summary>Files of the repository the benchmarks read, found from the working directory upwards.</summary>
internal static class Repo
{
    public static string Path(string relative)
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Sim.sln"))) return System.IO.Path.Combine(dir.FullName, relative);
        throw new InvalidOperationException("run the benchmarks from inside the repository (no Sim.sln above the working directory)");
    }
}
