using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Sim.Config;

namespace Sim.Traces;

/// <summary>
/// Reads a PyTorch profiler (Kineto) Chrome-trace JSON file, plain or gzipped, as a stream: the file is never held
/// whole (traces run to hundreds of MB), only one event at a time plus the events Sim keeps (operators, kernels,
/// annotations; launches, flows and Python frames are dropped on the way). A truncated, malformed or foreign file
/// gets one <see cref="SimInputException"/> naming the byte offset and what is wrong.
/// </summary>
internal static class KinetoReader
{
    /// <summary>The largest single JSON value (one event, deviceProperties) accepted: a bigger one is not a Kineto trace.</summary>
    public const int MaxValueBytes = 64 << 20;

    public static KinetoTrace Read(string path, string? shown = null)
    {
        shown ??= YamlDocument.DisplayName(path);
        if (!File.Exists(path)) throw new SimInputException(shown, "", "file not found");
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        var gz = file.ReadByte() == 0x1f && file.ReadByte() == 0x8b;
        file.Position = 0;
        using Stream stream = gz ? new GZipStream(file, CompressionMode.Decompress) : file;
        try
        {
            return Parse(stream, shown, gz);
        }
        catch (InvalidDataException e)
        {
            throw new SimInputException(shown, "", $"not a readable gzip file ({e.Message})");
        }
    }

    public static KinetoTrace Parse(Stream stream, string shown, bool gzipped = false)
    {
        var chunks = new JsonChunks(stream, shown, gzipped);
        var collector = new KinetoTraceBuilder(shown);
        if (chunks.PeekByte() != (byte)'{')
            throw chunks.Error("a PyTorch profiler trace is a JSON object with a traceEvents array; this file does not start with '{'");
        chunks.Advance(1);
        var sawEvents = false;
        while (true)
        {
            var b = chunks.PeekByte();
            if (b == (byte)'}') { chunks.Advance(1); break; }
            if (b == (byte)',') { chunks.Advance(1); continue; }
            var key = chunks.ReadPropertyName();
            switch (key)
            {
                case "traceEvents":
                    sawEvents = true;
                    if (chunks.PeekByte() != (byte)'[') throw chunks.Error("traceEvents is not an array");
                    chunks.Advance(1);
                    while (true)
                    {
                        var c = chunks.PeekByte();
                        if (c == (byte)']') { chunks.Advance(1); break; }
                        if (c == (byte)',') { chunks.Advance(1); continue; }
                        var at = chunks.Offset;
                        collector.Event(chunks.NextValue(), at);
                    }
                    break;
                case "deviceProperties":
                    var devicePropertiesAt = chunks.Offset;
                    collector.DeviceProperties(chunks.NextValue(), devicePropertiesAt);
                    break;
                case "distributedInfo":
                    var distributedInfoAt = chunks.Offset;
                    collector.DistributedInfo(chunks.NextValue(), distributedInfoAt);
                    break;
                case "cuda_runtime_version":
                    collector.CudaRuntime(chunks.NextValue());
                    break;
                default:
                    chunks.SkipValue();
                    break;
            }
        }
        if (!sawEvents)
            throw new SimInputException(shown, "traceEvents", "missing: not a PyTorch profiler (Kineto) trace");
        return collector.Build();
    }

    /// <summary>
    /// A window over the stream: whitespace and the punctuation between values are read here; each value is handed
    /// out whole (<see cref="NextValue"/>) or skipped without holding it (<see cref="SkipValue"/>).
    /// </summary>
    private sealed class JsonChunks(Stream stream, string shown, bool gzipped)
    {
        private byte[] _buf = new byte[1 << 20];
        private int _pos, _len;
        private long _base; // the stream offset of _buf[0]
        private bool _eof, _any;

        public long Offset => _base + _pos;

        public SimInputException Error(string what, long? at = null) =>
            new(shown, "", $"byte {at ?? Offset}{(gzipped ? " of the decompressed JSON" : "")}: {what}");

        /// <summary>Reads more of the stream behind what is left; false at its end.</summary>
        private bool Fill()
        {
            if (_eof) return false;
            if (_pos > 0)
            {
                Buffer.BlockCopy(_buf, _pos, _buf, 0, _len - _pos);
                _base += _pos; _len -= _pos; _pos = 0;
            }
            if (_len == _buf.Length)
            {
                if (_buf.Length >= MaxValueBytes) throw Error($"one JSON value is larger than {MaxValueBytes >> 20} MiB: not a Kineto trace event");
                Array.Resize(ref _buf, Math.Min(_buf.Length * 2, MaxValueBytes));
            }
            var n = stream.Read(_buf, _len, _buf.Length - _len);
            if (n == 0) { _eof = true; return false; }
            _len += n;
            return true;
        }

        /// <summary>The next byte that is not whitespace, left unread.</summary>
        public byte PeekByte()
        {
            while (true)
            {
                while (_pos < _len && _buf[_pos] is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') _pos++;
                if (_pos < _len) { _any = true; return _buf[_pos]; }
                if (!Fill()) throw Error(_any ? "the file ends early (truncated?)" : "the file is empty");
            }
        }

        public void Advance(int n) => _pos += n;

        public string ReadPropertyName()
        {
            var span = NextValue();
            var r = new Utf8JsonReader(span, isFinalBlock: true, default);
            r.Read();
            if (r.TokenType != JsonTokenType.String) throw Error("expected a property name");
            var name = r.GetString()!;
            if (PeekByte() != (byte)':') throw Error($"expected ':' after \"{name}\"");
            Advance(1);
            return name;
        }

        /// <summary>The next whole JSON value; consumed.</summary>
        public ReadOnlySpan<byte> NextValue()
        {
            PeekByte();
            while (true)
            {
                var start = _pos;
                var r = new Utf8JsonReader(_buf.AsSpan(_pos, _len - _pos), isFinalBlock: _eof, default);
                bool complete;
                try
                {
                    complete = r.Read() && (r.TokenType is not (JsonTokenType.StartObject or JsonTokenType.StartArray) || r.TrySkip());
                    // A number at the end of the window may go on in the next chunk.
                    if (complete && r.TokenType == JsonTokenType.Number && !_eof && r.BytesConsumed == _len - _pos) complete = false;
                }
                catch (JsonException e)
                {
                    throw Error(Describe(e), _base + start + OffsetIn(_buf.AsSpan(start, _len - start), e));
                }
                if (complete)
                {
                    _pos += (int)r.BytesConsumed;
                    return _buf.AsSpan(start, (int)r.BytesConsumed);
                }
                if (!Fill()) throw Error("the file ends inside a JSON value (truncated?)");
            }
        }

        /// <summary>Skips the next value, however large, holding only one window of it at a time.</summary>
        public void SkipValue()
        {
            PeekByte();
            var state = default(JsonReaderState);
            var started = false;
            while (true)
            {
                var r = new Utf8JsonReader(_buf.AsSpan(_pos, _len - _pos), isFinalBlock: _eof, state);
                try
                {
                    while (r.Read())
                    {
                        var closes = r.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray;
                        var opens = r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray;
                        if (r.CurrentDepth == 0 && (closes || !opens) && (started || !opens))
                        {
                            _pos += (int)r.BytesConsumed;
                            return;
                        }
                        started = true;
                    }
                }
                catch (JsonException e)
                {
                    throw Error(Describe(e), Offset + OffsetIn(_buf.AsSpan(_pos, _len - _pos), e));
                }
                // The reader stops before a token the window cuts; the state carries the nesting to the next window.
                _pos += (int)r.BytesConsumed;
                state = r.CurrentState;
                if (!Fill()) throw Error("the file ends inside a JSON value (truncated?)");
            }
        }

        private static string Describe(JsonException e)
        {
            var m = e.Message;
            var cut = m.IndexOf(" LineNumber:", StringComparison.Ordinal);
            return "malformed JSON: " + (cut > 0 ? m[..cut] : m).TrimEnd('.', ' ');
        }

        /// <summary>The byte offset, within <paramref name="span"/>, of a reader error's line and column.</summary>
        private static long OffsetIn(ReadOnlySpan<byte> span, JsonException e)
        {
            long line = e.LineNumber ?? 0, at = 0;
            for (var i = 0; i < span.Length && line > 0; i++)
                if (span[i] == (byte)'\n') { line--; at = i + 1; }
            return at + (e.BytePositionInLine ?? 0);
        }
    }

    internal static string Utf8(ReadOnlySpan<byte> s) => Encoding.UTF8.GetString(s);
}
