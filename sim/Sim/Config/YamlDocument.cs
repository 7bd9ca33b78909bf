using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Sim.Config;

/// <summary>Parses a YAML or JSON file (JSON is read as YAML flow style) into a checked root mapping.</summary>
public static class YamlDocument
{
    /// <summary>
    /// Longest input accepted. A YAML document in memory takes about 43 bytes per byte of text, so 16 MiB keeps a parse
    /// under 1 GiB and a few seconds; the largest real inputs are far smaller (a generated 200,000-table workload is
    /// 13 MB, the largest shipped file 1.3 MB).
    /// </summary>
    public const long MaxFileBytes = 16L * 1024 * 1024;

    /// <summary>
    /// Deepest nesting of lists and mappings accepted. YamlDotNet builds a document recursively, so a file nested
    /// tens of thousands of levels deep would overflow the stack and kill the process.
    /// </summary>
    public const int MaxDepth = 256;

    public static YamlMap LoadFile(string path)
    {
        var shown = DisplayName(path);
        if (!System.IO.File.Exists(path))
            throw new SimInputException(shown, "", "file not found");
        var info = new FileInfo(path);
        if (info.Length > MaxFileBytes)
            throw new SimInputException(shown, "", $"file is {info.Length} bytes, larger than the {MaxFileBytes}-byte (16 MiB) limit of a Sim input");
        return Parse(InputFile.ReadText(path, shown), shown);
    }

    public static YamlMap Parse(string text, string fileName)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new DepthLimitedParser(new Parser(new StringReader(text)), fileName));
        }
        catch (YamlException e)
        {
            var msg = e.InnerException?.Message ?? e.Message;
            // YamlDotNet prefixes messages with "(Line: a, Col: b, ...): "; the position is printed by us.
            var cut = msg.IndexOf("): ", StringComparison.Ordinal);
            if (msg.StartsWith("(Line", StringComparison.Ordinal) && cut > 0) msg = msg[(cut + 3)..];
            const string duplicate = "Duplicate key ";
            if (msg.StartsWith(duplicate, StringComparison.Ordinal))
                throw new SimInputException(fileName, (int)e.Start.Line, (int)e.Start.Column, msg[duplicate.Length..].Trim(), "key appears twice");
            throw new SimInputException(fileName, (int)e.Start.Line, (int)e.Start.Column, "", $"malformed YAML/JSON: {msg}");
        }
        catch (Exception e) when (e is not SimInputException)
        {
            throw new SimInputException(fileName, "", $"malformed YAML/JSON: {e.Message}");
        }
        if (stream.Documents.Count == 0)
            throw new SimInputException(fileName, "", "file is empty");
        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode;
            throw new SimInputException(fileName, (int)second.Start.Line, (int)second.Start.Column, "", "expected one document, found several");
        }
        var root = stream.Documents[0].RootNode;
        if (root is not YamlMappingNode map)
            throw new SimInputException(fileName, (int)root.Start.Line, (int)root.Start.Column, "", "expected a mapping (key: value pairs) at the top level");
        return new YamlMap(fileName, map, "");
    }

    /// <summary>Passes parser events through and stops at <see cref="MaxDepth"/> before the document builder recurses deeper.</summary>
    private sealed class DepthLimitedParser(IParser inner, string fileName) : IParser
    {
        private int _depth;

        public ParsingEvent? Current => inner.Current;

        public bool MoveNext()
        {
            if (!inner.MoveNext()) return false;
            switch (inner.Current)
            {
                case SequenceStart or MappingStart when ++_depth > MaxDepth:
                    throw new SimInputException(fileName, (int)inner.Current.Start.Line, (int)inner.Current.Start.Column, "",
                        $"lists and mappings nested more than {MaxDepth} levels deep");
                case SequenceEnd or MappingEnd:
                    _depth--;
                    break;
            }
            return true;
        }
    }

    /// <summary>Repo-relative when possible, so messages never leak machine paths.</summary>
    public static string DisplayName(string path)
    {
        if (!Path.IsPathRooted(path)) return path;
        var rel = Path.GetRelativePath(Directory.GetCurrentDirectory(), path);
        return rel.StartsWith("..", StringComparison.Ordinal) ? Path.GetFileName(path) : rel;
    }
}
