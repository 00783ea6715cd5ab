using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Streaming;

/// <summary>
/// The binary snapshot format, version 1, little-endian: magic <c>RNNSNAP1</c>; model name and weights hash
/// (each an i32 byte count and UTF-8); position (i64); layer count (i32); per layer h then c, each an i32
/// float count and the floats.
/// </summary>
internal static class SnapshotBinary
{
    private static readonly byte[] Magic = "RNNSNAP1"u8.ToArray();

    // A state larger than this is certainly corrupt (hundreds of millions of floats per layer).
    private const int MaxFloats = 1 << 28;

    public static byte[] Write(SessionSnapshot snapshot)
    {
        var name = Encoding.UTF8.GetBytes(snapshot.Model.Name);
        var hash = Encoding.UTF8.GetBytes(snapshot.Model.WeightsSha256);
        var size = Magic.Length + 4 + name.Length + 4 + hash.Length + 8 + 4 +
                   snapshot.Layers.Sum(l => 8 + 4 * (l.H.Length + l.C.Length));
        var bytes = new byte[size];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        var at = Magic.Length;
        WriteBlock(span, ref at, name);
        WriteBlock(span, ref at, hash);
        BinaryPrimitives.WriteInt64LittleEndian(span[at..], snapshot.Position);
        at += 8;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], snapshot.Layers.Count);
        at += 4;
        foreach (var layer in snapshot.Layers)
        {
            WriteFloats(span, ref at, layer.H.Span);
            WriteFloats(span, ref at, layer.C.Span);
        }

        return bytes;
    }

    public static SessionSnapshot Read(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Magic.Length || !bytes[..Magic.Length].SequenceEqual(Magic))
        {
            throw Malformed($"the bytes do not start with the snapshot magic 'RNNSNAP1' (found {bytes.Length} byte(s)).");
        }

        var at = Magic.Length;
        var name = Encoding.UTF8.GetString(ReadBlock(bytes, ref at, "model name"));
        var hash = Encoding.UTF8.GetString(ReadBlock(bytes, ref at, "weights hash"));
        var position = BinaryPrimitives.ReadInt64LittleEndian(Take(bytes, ref at, 8, "position"));
        var count = BinaryPrimitives.ReadInt32LittleEndian(Take(bytes, ref at, 4, "layer count"));
        if (count < 0 || count > 10_000)
        {
            throw Malformed($"the layer count is {count}; expected 0 to 10000.");
        }

        var layers = new LayerState[count];
        for (var i = 0; i < count; i++)
        {
            var h = ReadFloats(bytes, ref at, $"layer {i} h");
            var c = ReadFloats(bytes, ref at, $"layer {i} c");
            layers[i] = new LayerState(h, c);
        }

        if (at != bytes.Length)
        {
            throw Malformed($"{bytes.Length - at} byte(s) follow the last layer; expected the snapshot to end at byte {at}.");
        }

        return new SessionSnapshot(new ModelIdentity(name, hash), position, layers);
    }

    private static void WriteBlock(Span<byte> span, ref int at, byte[] block)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], block.Length);
        block.CopyTo(span[(at + 4)..]);
        at += 4 + block.Length;
    }

    private static void WriteFloats(Span<byte> span, ref int at, ReadOnlySpan<float> values)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], values.Length);
        at += 4;
        if (BitConverter.IsLittleEndian)
        {
            MemoryMarshal.AsBytes(values).CopyTo(span[at..]);
        }
        else
        {
            for (var i = 0; i < values.Length; i++)
            {
                BinaryPrimitives.WriteSingleLittleEndian(span[(at + 4 * i)..], values[i]);
            }
        }

        at += 4 * values.Length;
    }

    private static ReadOnlySpan<byte> ReadBlock(ReadOnlySpan<byte> bytes, ref int at, string what)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(Take(bytes, ref at, 4, what + " length"));
        if (length < 0 || length > 4096)
        {
            throw Malformed($"the {what} is {length} byte(s) long; expected 0 to 4096.");
        }

        return Take(bytes, ref at, length, what);
    }

    private static float[] ReadFloats(ReadOnlySpan<byte> bytes, ref int at, string what)
    {
        var count = BinaryPrimitives.ReadInt32LittleEndian(Take(bytes, ref at, 4, what + " count"));
        if (count < 0 || count > MaxFloats)
        {
            throw Malformed($"the {what} holds {count} floats; expected 0 to {MaxFloats}.");
        }

        var raw = Take(bytes, ref at, 4 * count, what);
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
        }

        return values;
    }

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> bytes, ref int at, int count, string what)
    {
        if (bytes.Length - at < count)
        {
            throw Malformed($"the snapshot ends at byte {bytes.Length} while reading the {what} ({count} byte(s) needed at byte {at}).");
        }

        var slice = bytes.Slice(at, count);
        at += count;
        return slice;
    }

    private static EngineException Malformed(string message) => new(EngineErrorCode.MalformedSnapshot, "malformed snapshot: " + message);
}
