using System.Buffers.Binary;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Tests.Weights;

public sealed class SafetensorsDTypeTests
{
    [Fact]
    public void Reader_widens_F16_to_fp32_exactly()
    {
        Half[] values = [(Half)0f, (Half)(-2.5f), Half.MaxValue, Half.MinValue, Half.Epsilon, (Half)0.1f, Half.PositiveInfinity, Half.NegativeZero];
        var data = new byte[2 * values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(data.AsSpan(2 * i), values[i]);
        }

        var file = Safetensors.Read(SafetensorsBytes.Build("{" + SafetensorsBytes.Entry("h", "F16", "[2, 4]", 0, data.Length) + "}", data));

        var tensor = file.ReadFloat("h");
        Assert.Equal([2, 4], tensor.Shape);
        Assert.Equal(values.Select(v => BitConverter.SingleToInt32Bits((float)v)), tensor.Data.ToArray().Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Reader_widens_BF16_to_fp32_exactly()
    {
        // bfloat16 keeps the upper 16 bits of an fp32, so these fp32 values are exactly representable.
        float[] expected = [1f, -2.5f, 3.140625f, float.PositiveInfinity, -0f, BitConverter.Int32BitsToSingle(0x0001_0000)];
        var data = new byte[2 * expected.Length];
        for (var i = 0; i < expected.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2 * i), (ushort)(BitConverter.SingleToUInt32Bits(expected[i]) >> 16));
        }

        var file = Safetensors.Read(SafetensorsBytes.Build("{" + SafetensorsBytes.Entry("b", "BF16", "[6]", 0, data.Length) + "}", data));

        Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), file.ReadFloat("b").Data.ToArray().Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Reader_narrows_F64_to_the_nearest_fp32()
    {
        double[] values = [0.5, -1e-3, 1.0 / 3.0, 1e300, double.NegativeInfinity];
        var data = new byte[8 * values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(8 * i), values[i]);
        }

        var file = Safetensors.Read(SafetensorsBytes.Build("{" + SafetensorsBytes.Entry("d", "F64", "[5, 1]", 0, data.Length) + "}", data));

        var tensor = file.ReadFloat("d");
        Assert.Equal([5, 1], tensor.Shape);
        Assert.Equal(values.Select(v => (float)v), tensor.Data.ToArray());
    }

    [Fact]
    public void Reader_reads_tensors_at_unaligned_offsets()
    {
        var data = new byte[] { 0xAA }.Concat(SafetensorsBytes.Floats(1.25f, -7f)).ToArray();
        var header = "{" + SafetensorsBytes.Entry("pad", "U8", "[1]", 0, 1) + "," + SafetensorsBytes.Entry("w", "F32", "[2]", 1, 9) + "}";

        var file = Safetensors.Read(SafetensorsBytes.Build(header, data));

        Assert.Equal(new float[] { 1.25f, -7f }, file.ReadFloat("w").Data.ToArray());
    }

    [Fact]
    public void Reader_keeps_a_non_float_tensor_until_it_is_requested_as_float()
    {
        var data = SafetensorsBytes.Floats(0.5f, 1.5f).Concat(BitConverter.GetBytes(7L)).ToArray();
        var header = "{" + SafetensorsBytes.Entry("weight", "F32", "[2]", 0, 8) + ","
                     + SafetensorsBytes.Entry("num_batches_tracked", "I64", "[]", 8, 16) + "}";

        var file = Safetensors.Read(SafetensorsBytes.Build(header, data), "bn.safetensors");
        var view = file.AsFloatTensors();

        Assert.Equal("I64", file.Entries["num_batches_tracked"].DType);
        Assert.False(file.Entries["num_batches_tracked"].IsFloatingPoint);
        Assert.Contains("num_batches_tracked", view.Keys);
        Assert.Equal(new float[] { 0.5f, 1.5f }, view["weight"].Data.ToArray());
        var e = Assert.Throws<SafetensorsFormatException>(() => file.ReadFloat("num_batches_tracked"));
        Assert.Contains("bn.safetensors", e.Message, StringComparison.Ordinal);
        Assert.Contains("'num_batches_tracked' has dtype I64", e.Message, StringComparison.Ordinal);
        Assert.Contains("F32, F16, BF16 or F64", e.Message, StringComparison.Ordinal);
        Assert.Throws<SafetensorsFormatException>(() => view.TryGetValue("num_batches_tracked", out _));
    }

    [Fact]
    public void Reader_keeps_a_dtype_it_does_not_know_but_refuses_it_as_float()
    {
        var header = "{" + SafetensorsBytes.Entry("packed", "F4", "[4]", 0, 2) + "}";

        var file = Safetensors.Read(SafetensorsBytes.Build(header, 0x12, 0x34));

        Assert.Equal("F4", file.Entries["packed"].DType);
        Assert.Equal(2, file.Entries["packed"].ByteLength);
        var e = Assert.Throws<SafetensorsFormatException>(() => file.ReadFloat("packed"));
        Assert.Contains("dtype F4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reading_an_absent_tensor_names_it_and_lists_what_the_file_holds()
    {
        var file = Safetensors.Read(SafetensorsBytes.Build("{" + SafetensorsBytes.Entry("w", "F32", "[1]", 0, 4) + "}", SafetensorsBytes.Floats(1f)), "m.safetensors");

        var e = Assert.Throws<KeyNotFoundException>(() => file.ReadFloat("bias"));

        Assert.Contains("m.safetensors holds no tensor named 'bias'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'w'", e.Message, StringComparison.Ordinal);
        Assert.False(file.AsFloatTensors().TryGetValue("bias", out _));
    }
}
