using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Streaming.Client;

/// <summary>
/// A session's state as the server sent it in a SnapshotReply: the bytes, to send back unchanged in a Restore (to this
/// server or another serving the same model), and what they hold, read as docs/protocol.md ("The snapshot's bytes")
/// specifies: the model, the position, and every layer's h and c.
/// </summary>
public sealed class Snapshot
{
    private const int MaxTextBytes = 4096;
    private const int MaxLayers = 10_000;
    private const int MaxFloats = 1 << 28;
    private static readonly byte[] Magic = "RNNSNAP1"u8.ToArray();
    private readonly float[][] _h;
    private readonly float[][] _c;

    private Snapshot(ReadOnlyMemory<byte> bytes, string model, string weightsSha256, long position, float[][] h, float[][] c)
    {
        Bytes = bytes;
        Model = model;
        WeightsSha256 = weightsSha256;
        Position = position;
        _h = h;
        _c = c;
    }

    /// <summary>The snapshot's binary form, exactly as the server sent it.</summary>
    public ReadOnlyMemory<byte> Bytes { get; }

    /// <summary>The name of the model the state belongs to.</summary>
    public string Model { get; }

    /// <summary>The lower-case hex SHA-256 of the model's weights; a snapshot restores only into the same weights.</summary>
    public string WeightsSha256 { get; }

    /// <summary>Tokens the session had consumed (replayed steps included).</summary>
    public long Position { get; }

    /// <summary>The number of recurrent layers.</summary>
    public int Layers => _h.Length;

    /// <summary>h of every layer, PyTorch's h_n without the batch axis: (num_layers * num_directions, output size).</summary>
    public float[] HiddenState() => _h.SelectMany(h => h).ToArray();

    /// <summary>c of every layer, PyTorch's c_n without the batch axis; empty for RNN and GRU.</summary>
    public float[] CellState() => _c.SelectMany(c => c).ToArray();

    /// <summary>Reads a snapshot's binary form (version 1).</summary>
    /// <exception cref="FormatException">The bytes are not a snapshot: the message names the field and what was found.</exception>
    public static Snapshot FromBytes(ReadOnlyMemory<byte> bytes)
    {
        var reader = new Reader(bytes.Span);
        if (!reader.Take(Magic.Length, "magic").SequenceEqual(Magic))
        {
            throw new FormatException($"the bytes do not start with the snapshot magic 'RNNSNAP1' ({bytes.Length} byte(s)).");
        }

        var model = Encoding.UTF8.GetString(reader.Take(reader.Count("model name", MaxTextBytes), "model name"));
        var hash = Encoding.UTF8.GetString(reader.Take(reader.Count("weights hash", MaxTextBytes), "weights hash"));
        var position = BinaryPrimitives.ReadInt64LittleEndian(reader.Take(8, "position"));
        if (position < 0)
        {
            throw new FormatException($"the snapshot's position is {position}; expected 0 or more.");
        }

        var layers = reader.Count("layer count", MaxLayers);
        var h = new float[layers][];
        var c = new float[layers][];
        for (var layer = 0; layer < layers; layer++)
        {
            h[layer] = reader.Floats($"layer {layer} h");
            c[layer] = reader.Floats($"layer {layer} c");
        }

        if (reader.Remaining > 0)
        {
            throw new FormatException($"{reader.Remaining} byte(s) follow the last layer of the snapshot; expected none.");
        }

        return new Snapshot(bytes, model, hash, position, h, c);
    }

    /// <summary>The model, position and layer count, for messages.</summary>
    public override string ToString() => $"snapshot of '{Model}' at position {Position} ({Layers} layer(s), {Bytes.Length} bytes)";

    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private readonly ReadOnlySpan<byte> _bytes = bytes;
        private int _at;

        public readonly int Remaining => _bytes.Length - _at;

        public ReadOnlySpan<byte> Take(int count, string field)
        {
            if (count > Remaining)
            {
                throw new FormatException($"the snapshot ends inside its {field}: {count} byte(s) needed at offset {_at}, {Remaining} left.");
            }

            var taken = _bytes.Slice(_at, count);
            _at += count;
            return taken;
        }

        public int Count(string field, int max)
        {
            var count = BinaryPrimitives.ReadInt32LittleEndian(Take(4, field + " count"));
            if (count < 0 || count > max)
            {
                throw new FormatException($"the snapshot's {field} count is {count}; expected 0 to {max}.");
            }

            return count;
        }

        public float[] Floats(string field)
        {
            var count = Count(field, MaxFloats);
            var source = Take(checked(count * 4), field);
            var floats = new float[count];
            if (BitConverter.IsLittleEndian)
            {
                source.CopyTo(MemoryMarshal.AsBytes(floats.AsSpan()));
            }
            else
            {
                for (var i = 0; i < count; i++)
                {
                    floats[i] = BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]);
                }
            }

            return floats;
        }
    }
}
