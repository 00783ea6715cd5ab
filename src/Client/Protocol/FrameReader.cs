using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Streaming.Client.Protocol;

/// <summary>
/// Reads one frame's body (the bytes after its type byte) strictly: every read checks the bytes that
/// remain before it allocates, and every failure is a <see cref="ProtocolException"/> that names the
/// frame, its session and sequence when already read, the field, what was expected and what was found.
/// </summary>
internal ref struct FrameReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly ReadOnlySpan<byte> _body;
    private readonly FrameType _type;
    private int _at;

    public FrameReader(ReadOnlySpan<byte> body, FrameType type)
    {
        _body = body;
        _type = type;
    }

    public string? Session { get; private set; }

    public ulong? Sequence { get; private set; }

    /// <summary>Bytes of the body not read yet.</summary>
    public readonly int Remaining => _body.Length - _at;

    public byte U8(string what) => Take(1, what)[0];

    public ushort U16(string what) => BinaryPrimitives.ReadUInt16LittleEndian(Take(2, what));

    public short I16(string what) => BinaryPrimitives.ReadInt16LittleEndian(Take(2, what));

    public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));

    public int I32(string what) => BinaryPrimitives.ReadInt32LittleEndian(Take(4, what));

    public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

    public long I64(string what) => BinaryPrimitives.ReadInt64LittleEndian(Take(8, what));

    public double F64(string what) => BinaryPrimitives.ReadDoubleLittleEndian(Take(8, what));

    /// <summary>A u32 count or size that must fit an int (any real one does: frames are at most 1 GiB).</summary>
    public int Count(string what)
    {
        var value = U32(what);
        if (value > int.MaxValue)
        {
            throw Malformed($"the {what} is {value}; expected at most {int.MaxValue}.");
        }

        return (int)value;
    }

    public long Position(string what)
    {
        var value = I64(what);
        if (value < 0)
        {
            throw Malformed($"the {what} is {value}; expected 0 or more.");
        }

        return value;
    }

    /// <summary>Reads the u64 sequence number and the session id that start every session frame.</summary>
    public void SessionHeader(bool allowEmpty)
    {
        Sequence = U64("sequence number");
        int length = U8("session id length");
        if (length > FrameCodec.MaxSessionIdBytes || (length == 0 && !allowEmpty))
        {
            throw new ProtocolException(ProtocolErrorCode.InvalidSessionId,
                $"{Describe()}: the session id is {length} byte(s) long; expected 1 to {FrameCodec.MaxSessionIdBytes} bytes of UTF-8.",
                null, Sequence);
        }

        var bytes = Take(length, "session id");
        try
        {
            Session = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new ProtocolException(ProtocolErrorCode.InvalidSessionId,
                $"{Describe()}: the session id ({length} byte(s)) is not valid UTF-8.", null, Sequence);
        }
    }

    /// <summary>A u16 byte count and that many bytes of UTF-8.</summary>
    public string String(string what)
    {
        int length = U16(what + " length");
        var bytes = Take(length, what);
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw Malformed($"the {what} ({length} byte(s)) is not valid UTF-8.");
        }
    }

    /// <summary>A u32 float count and the floats.</summary>
    public float[] FloatVector(string what) => Floats(U32(what + " float count"), what);

    /// <summary>A u32 byte count and the bytes.</summary>
    public byte[] ByteBlock(string what)
    {
        var count = U32(what + " byte count");
        if (count > Remaining)
        {
            throw Malformed($"the {what} declares {count} byte(s) but only {Remaining} remain.");
        }

        return Take((int)count, what).ToArray();
    }

    public float[] Floats(ulong count, string what)
    {
        // Compare counts, not byte sizes, so a declared count near 2^64 cannot overflow.
        if (count > (ulong)(Remaining / 4))
        {
            throw Malformed($"the {what} declares {count} float(s) ({count * 4UL} bytes) but only {Remaining} byte(s) remain.");
        }

        var raw = Take((int)count * 4, what);
        var values = new float[(int)count];
        if (BitConverter.IsLittleEndian)
        {
            raw.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        }
        else
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]);
            }
        }

        return values;
    }

    public int[] Ints(ulong count, string what)
    {
        if (count > (ulong)(Remaining / 4))
        {
            throw Malformed($"the {what} declares {count} id(s) ({count * 4UL} bytes) but only {Remaining} byte(s) remain.");
        }

        var raw = Take((int)count * 4, what);
        var values = new int[(int)count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]);
        }

        return values;
    }

    public TokenKind Kind(string what)
    {
        var value = U8(what);
        return value switch
        {
            (byte)TokenKind.Vectors => TokenKind.Vectors,
            (byte)TokenKind.Ids => TokenKind.Ids,
            _ => throw Malformed($"the {what} is {value}; expected 0 (vector) or 1 (id)."),
        };
    }

    /// <summary>Checks that the body ends exactly here.</summary>
    public readonly void End()
    {
        if (Remaining != 0)
        {
            throw Malformed($"{Remaining} byte(s) follow the last field; expected the frame to end after {_at + 1} byte(s) of type and body.");
        }
    }

    public readonly ProtocolException Malformed(string problem) =>
        new(ProtocolErrorCode.MalformedFrame, $"{Describe()}: {problem}", Session, Sequence);

    private ReadOnlySpan<byte> Take(int count, string what)
    {
        if (count > Remaining)
        {
            throw Malformed($"the frame ends {Remaining} byte(s) into the {what}, which needs {count} byte(s).");
        }

        var slice = _body.Slice(_at, count);
        _at += count;
        return slice;
    }

    private readonly string Describe()
    {
        var text = $"{_type} frame";
        if (Session is not null)
        {
            text += $" for session '{Session}'";
        }

        if (Sequence is { } sequence)
        {
            text += $" (sequence {sequence})";
        }

        return text;
    }
}
