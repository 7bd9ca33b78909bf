namespace Sim;

/// <summary>Writes a file so that readers see the old or the new content, never half of it.</summary>
internal static class AtomicFile
{
    /// <summary>Writes UTF-8 text (no byte-order mark) to <paramref name="path"/> atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, tmp => File.WriteAllText(tmp, text, new System.Text.UTF8Encoding(false)));

    /// <summary>Writes a stream's content to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, Action<Stream> write) => Write(path, tmp =>
    {
        using var f = File.Create(tmp);
        write(f);
    });

    /// <summary>
    /// The one atomic write: <paramref name="writeTemporary"/> fills a temporary file beside the target (its folder is
    /// created), which then replaces the target; a failure leaves the old file and no temporary behind.
    /// </summary>
    public static void Write(string path, Action<string> writeTemporary)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var tmp = full + ".tmp-" + Environment.ProcessId; // one writer per target per process
        try
        {
            writeTemporary(tmp);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }
}
