namespace Streaming.Cells.Weights;

/// <summary>One tensor as a safetensors header describes it.</summary>
/// <param name="Name">The tensor's name (a state_dict key).</param>
/// <param name="DType">The dtype as written in the file, e.g. <c>F32</c>, <c>BF16</c>, <c>I64</c>.</param>
/// <param name="Shape">Dimensions, outermost first; empty for a scalar.</param>
/// <param name="DataBegin">First byte of the tensor, relative to the start of the data buffer.</param>
/// <param name="DataEnd">One past the last byte of the tensor, relative to the start of the data buffer.</param>
public sealed record SafetensorsEntry(string Name, string DType, IReadOnlyList<int> Shape, long DataBegin, long DataEnd)
{
    /// <summary>Whether the dtype is one that reads as fp32: <c>F32</c>, <c>F16</c>, <c>BF16</c> or <c>F64</c>.</summary>
    public bool IsFloatingPoint => SafetensorsDTypes.IsFloatingPoint(DType);

    /// <summary>Bytes the tensor occupies: <c>DataEnd - DataBegin</c>.</summary>
    public long ByteLength => DataEnd - DataBegin;
}
