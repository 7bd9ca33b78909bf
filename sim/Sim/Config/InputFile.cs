namespace Sim.Config;

/// <summary>
/// Reads an input file of any kind (a regular file, a pipe, a device) as text, never more than
/// <see cref="YamlDocument.MaxFileBytes"/>: `/dev/zero` or an endless pipe is refused in one line, not read until
/// memory runs out.
/// </summary>
internal static class InputFile
{
    /// <summary>
    /// Seconds an input may take to arrive in full. A file of up to the size limit is read in well under a second; a pipe
    /// or FIFO that nobody writes would block for ever (its open or its first read never returns), so it is refused.
    /// SIM_INPUT_TIMEOUT_SECONDS overrides it.
    /// </summary>
    public static double TimeoutSeconds => Timeout.Value ??
        (double.TryParse(Environment.GetEnvironmentVariable("SIM_INPUT_TIMEOUT_SECONDS"), System.Globalization.NumberStyles.Float,
            System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 30);

    /// <summary>A timeout for this flow of work only (tests).</summary>
    internal static readonly AsyncLocal<double?> Timeout = new();

    public static string ReadText(string path, string shown)
    {
        if (!File.Exists(path)) throw new SimInputException(shown, "", "file not found");
        // The read runs on a worker so that a silent pipe cannot hang the command; a blocked worker dies with the process.
        var read = Task.Run(() => ReadBounded(path, shown));
        try
        {
            if (!read.Wait(TimeSpan.FromSeconds(TimeoutSeconds)))
                throw new SimInputException(shown, "", $"no complete input within {TimeoutSeconds:0.#} s (a pipe or FIFO that nobody writes, or never closes?)");
            return read.Result;
        }
        catch (AggregateException e) when (e.InnerException is { } inner)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(inner).Throw();
            throw;
        }
    }

    private static string ReadBounded(string path, string shown)
    {
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
