using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Streaming.Cells.Weights;

/// <summary>Element sizes of the safetensors dtypes and their conversion to fp32.</summary>
internal static class SafetensorsDTypes
{
    /// <summary>The dtypes that read as fp32, in the order error messages list them.</summary>
    internal const string FloatingPointNames = "F32, F16, BF16 or F64";

    /// <summary>Bytes per element of every whole-byte dtype the format defines; unknown dtypes have none.</summary>
    internal static int? ElementSize(string dtype) => dtype switch
    {
        "BOOL" or "U8" or "I8" or "F8_E5M2" or "F8_E4M3" or "F8_E8M0" => 1,
        "U16" or "I16" or "F16" or "BF16" => 2,
        "U32" or "I32" or "F32" => 4,
        "U64" or "I64" or "F64" or "C64" => 8,
        _ => null,
    };

    /// <summary>Whether <paramref name="dtype"/> converts to fp32 here.</summary>
    internal static bool IsFloatingPoint(string dtype) => dtype is "F32" or "F16" or "BF16" or "F64";

    /// <summary>
    /// Converts little-endian elements of a floating-point dtype to fp32. F16 and BF16 widen exactly;
    /// F64 rounds to the nearest fp32, as <c>tensor.float()</c> does.
    /// </summary>
    internal static void ConvertToSingle(string dtype, ReadOnlySpan<byte> source, Span<float> destination)
    {
        switch (dtype)
        {
            case "F32":
                // A byte copy needs no alignment, unlike reinterpreting the source as floats.
                source.CopyTo(MemoryMarshal.AsBytes(destination));
                if (!BitConverter.IsLittleEndian)
                {
                    var bits = MemoryMarshal.Cast<float, int>(destination);
                    BinaryPrimitives.ReverseEndianness(bits, bits);
                }

                break;
            case "F16":
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(source[(2 * i)..]);
                }

                break;
            case "BF16":
                for (var i = 0; i < destination.Length; i++)
                {
                    // bfloat16 is the upper half of an fp32, so widening is a shift.
                    destination[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(2 * i)..]) << 16);
                }

                break;
            case "F64":
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(source[(8 * i)..]);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, $"expected {FloatingPointNames}");
        }
    }
}
