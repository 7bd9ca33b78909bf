namespace Sim;

/// <summary>Writes a file so that readers see the old or the new content, never half of it.</summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text)
    {
        var full = Path.GetFullPath(path);
        var tmp = full + ".tmp-" + Environment.ProcessId;
        File.WriteAllText(tmp, text);
        File.Move(tmp, full, overwrite: true);
    }
}
