using System.Buffers.Binary;
using System.Text;

namespace Host.Tests.Protocol;

/// <summary>Hand-built frame bytes, for layouts the encoder would never write.</summary>
internal static class Raw
{
    public static byte[] Frame(byte type, params byte[][] parts)
    {
        var body = parts.SelectMany(p => p).ToArray();
        return U32((uint)(body.Length + 1)).Append(type).Concat(body).ToArray();
    }

    public static byte[] Header(ulong sequence, string session) =>
        U64(sequence).Append((byte)Encoding.UTF8.GetByteCount(session)).Concat(Encoding.UTF8.GetBytes(session)).ToArray();

    public static byte[] U8(byte value) => [value];

    public static byte[] U16(ushort value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, value);
        return bytes;
    }

    public static byte[] U32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, value);
        return bytes;
    }

    public static byte[] U64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        return bytes;
    }

    public static byte[] I64(long value) => U64(unchecked((ulong)value));

    public static byte[] I16(short value) => U16(unchecked((ushort)value));

    public static byte[] F64(double value) => U64(BitConverter.DoubleToUInt64Bits(value));

    /// <summary>A str16: u16 byte count, then the UTF-8 bytes.</summary>
    public static byte[] Str(string value) => Str(Encoding.UTF8.GetBytes(value));

    /// <summary>A str16 of raw bytes, valid UTF-8 or not.</summary>
    public static byte[] Str(byte[] bytes) => U16((ushort)bytes.Length).Concat(bytes).ToArray();

    public static byte[] Floats(params float[] values) => values.SelectMany(v => BitConverter.GetBytes(v)).ToArray();

    public static byte[] Hex(string hex) => Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal).Replace("|", "", StringComparison.Ordinal));
}
