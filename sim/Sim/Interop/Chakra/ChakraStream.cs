using Google.Protobuf;

namespace Sim.Interop.Chakra;

/// <summary>
/// Chakra's file framing (src/third_party/utils/protolib.py, encodeMessage / decodeMessage, and the C++ feeder's
/// protoio): a sequence of messages, each preceded by its length as a base-128 varint of at most 32 bits. A trace is
/// one <c>GlobalMetadata</c> message followed by <c>Node</c> messages. A length of 0 reads as the end of the file,
/// so an empty message must never be written (every message Sim writes has a name or a version).
/// </summary>
internal static class ChakraStream
{
    /// <summary>Appends one message with its varint32 length prefix.</summary>
    public static void Write(Stream output, IMessage message)
    {
        var bytes = message.ToByteArray();
        if (bytes.Length == 0) throw new InvalidOperationException("an empty message would read back as the end of a Chakra trace");
        var length = (uint)bytes.Length;
        Span<byte> prefix = stackalloc byte[5];
        var n = 0;
        while (length >= 0x80)
        {
            prefix[n++] = (byte)(length | 0x80);
            length >>= 7;
        }
        prefix[n++] = (byte)length;
        output.Write(prefix[..n]);
        output.Write(bytes);
    }

    /// <summary>
    /// The next message's bytes, or null at the end (end of file, or a zero length as protolib reads it). Throws
    /// <see cref="InvalidDataException"/> on a truncated length or message.
    /// </summary>
    public static byte[]? ReadNext(Stream input)
    {
        uint length = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = input.ReadByte();
            if (b < 0)
            {
                if (shift == 0) return null;
                throw new InvalidDataException("Chakra trace ends inside a length prefix");
            }
            if (shift >= 32) throw new InvalidDataException("Chakra trace has a length prefix longer than 32 bits");
            length |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
        }
        if (length == 0) return null;
        if (length > int.MaxValue) throw new InvalidDataException($"Chakra trace has a message of {length} bytes");
        var bytes = new byte[length];
        input.ReadExactly(bytes);
        return bytes;
    }
}
