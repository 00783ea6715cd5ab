using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Streaming.Client.Protocol;

/// <summary>
/// Writes a frame's fields little-endian. The same layout code runs twice: once measuring (no buffer,
/// only the length advances, every check runs) and once writing into a buffer of exactly that length,
/// so the size and the bytes can never disagree.
/// </summary>
internal ref struct FrameWriter
{
    private readonly Span<byte> _buffer;
    private readonly bool _measuring;

    private FrameWriter(Span<byte> buffer, bool measuring)
    {
        _buffer = buffer;
        _measuring = measuring;
    }

    /// <summary>Bytes written (or measured) so far; a long so that measuring an absurd frame cannot overflow.</summary>
    public long Length { get; private set; }

    public static FrameWriter Measuring() => new(Span<byte>.Empty, measuring: true);

    public static FrameWriter Into(Span<byte> buffer) => new(buffer, measuring: false);

    public void U8(byte value)
    {
        if (!_measuring)
        {
            _buffer[(int)Length] = value;
        }

        Length += 1;
    }

    public void U16(ushort value)
    {
        if (!_measuring)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_buffer[(int)Length..], value);
        }

        Length += 2;
    }

    public void I16(short value) => U16(unchecked((ushort)value));

    public void U32(uint value)
    {
        if (!_measuring)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(_buffer[(int)Length..], value);
        }

        Length += 4;
    }

    public void I32(int value) => U32(unchecked((uint)value));

    public void U64(ulong value)
    {
        if (!_measuring)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(_buffer[(int)Length..], value);
        }

        Length += 8;
    }

    public void I64(long value) => U64(unchecked((ulong)value));

    /// <summary>An IEEE 754 binary64, every bit as is.</summary>
    public void F64(double value) => U64(BitConverter.DoubleToUInt64Bits(value));

    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        if (!_measuring)
        {
            bytes.CopyTo(_buffer[(int)Length..]);
        }

        Length += bytes.Length;
    }

    /// <summary>Writes a string whose UTF-8 bytes the caller has already measured (<paramref name="byteCount"/>).</summary>
    public void Utf8(string value, int byteCount, Encoding encoding)
    {
        if (!_measuring)
        {
            var written = encoding.GetBytes(value, _buffer.Slice((int)Length, byteCount));
            System.Diagnostics.Debug.Assert(written == byteCount, "the measured byte count is the written one");
        }

        Length += byteCount;
    }

    public void Floats(ReadOnlySpan<float> values)
    {
        if (!_measuring)
        {
            var target = _buffer.Slice((int)Length, 4 * values.Length);
            if (BitConverter.IsLittleEndian)
            {
                // A byte copy keeps every bit, NaN payloads included.
                MemoryMarshal.AsBytes(values).CopyTo(target);
            }
            else
            {
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(target[(4 * i)..], values[i]);
                }
            }
        }

        Length += 4L * values.Length;
    }

    public void Ints(ReadOnlySpan<int> values)
    {
        if (!_measuring)
        {
            var target = _buffer.Slice((int)Length, 4 * values.Length);
            if (BitConverter.IsLittleEndian)
            {
                MemoryMarshal.AsBytes(values).CopyTo(target);
            }
            else
            {
                for (var i = 0; i < values.Length; i++)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(target[(4 * i)..], values[i]);
                }
            }
        }

        Length += 4L * values.Length;
    }
}
