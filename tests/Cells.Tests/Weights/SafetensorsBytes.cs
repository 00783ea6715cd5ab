using System.Buffers.Binary;
using System.Text;

namespace Streaming.Cells.Tests.Weights;

/// <summary>Builds safetensors bytes by hand, independently of the reader and writer under test.</summary>
internal static class SafetensorsBytes
{
    /// <summary>An 8-byte little-endian length of <paramref name="headerJson"/>, the header, then <paramref name="data"/>.</summary>
    public static byte[] Build(string headerJson, params byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        return WithDeclaredLength((ulong)header.Length, header, data);
    }

    /// <summary>Like <see cref="Build"/> but with any declared header length, true or not.</summary>
    public static byte[] WithDeclaredLength(ulong declared, byte[] header, byte[] data)
    {
        var bytes = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declared);
        header.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + header.Length);
        return bytes;
    }

    /// <summary>A header entry: <c>"name": {"dtype": .., "shape": .., "data_offsets": [begin, end]}</c>.</summary>
    public static string Entry(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[{begin},{end}]}}";

    /// <summary>The little-endian bytes of fp32 values.</summary>
    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[4 * values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
        }

        return bytes;
    }
}
