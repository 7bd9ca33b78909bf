namespace Sim.Config;

/// <summary>
/// Reads an input file of any kind (a regular file, a pipe, a device) as text, never more than
/// <see cref="YamlDocument.MaxFileBytes"/>: `/dev/zero` or an endless pipe is refused in one line, not read until
/// memory runs out.
/// </summary>
public static class InputFile
{
    public static string ReadText(string path, string shown)
    {
        if (!File.Exists(path)) throw new SimInputException(shown, "", "file not found");
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        var bytes = new MemoryStream();
        var chunk = new byte[1 << 16];
        int n;
        while ((n = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (bytes.Length + n > YamlDocument.MaxFileBytes)
                throw new SimInputException(shown, "", $"input is larger than the {YamlDocument.MaxFileBytes}-byte (16 MiB) limit of a Sim input (not a Sim file?)");
            bytes.Write(chunk, 0, n);
        }
        bytes.Position = 0;
        using var reader = new StreamReader(bytes, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }
}
