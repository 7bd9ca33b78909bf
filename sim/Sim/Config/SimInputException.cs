namespace Sim.Config;

/// <summary>
/// Bad user input: a file, a position in it, the field and what is wrong. Its message is the one line
/// the CLI prints (`file:line:column: field: problem`), so callers never need a stack trace.
/// </summary>
public sealed class SimInputException : Exception
{
    public string File { get; }
    public int Line { get; }
    public int Column { get; }
    public string Field { get; }
    public string Problem { get; }

    public SimInputException(string file, int line, int column, string field, string problem)
        : base(Format(file, line, column, field, problem))
    {
        File = file; Line = line; Column = column; Field = field; Problem = problem;
    }

    /// <summary>An error about a whole file or a derived quantity, with no line to point at.</summary>
    public SimInputException(string file, string field, string problem) : this(file, 0, 0, field, problem) { }

    /// <summary>Longest problem text printed; parser messages can quote a whole file.</summary>
    public const int MaxProblemLength = 1000;

    private static string Format(string file, int line, int column, string field, string problem)
    {
        if (problem.Length > MaxProblemLength) problem = problem[..MaxProblemLength] + "...";
        var where = line > 0 ? $"{file}:{line}:{column}" : file;
        // One line whatever the cause: a parser's message (or a quoted key) may hold line breaks.
        return (string.IsNullOrEmpty(field) ? $"{where}: {problem}" : $"{where}: {field}: {problem}").ReplaceLineEndings(" ");
    }
}
