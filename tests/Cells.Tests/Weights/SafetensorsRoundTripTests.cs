using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Tests.Weights;

public sealed class SafetensorsRoundTripTests
{
    private static readonly float[] AwkwardValues =
    [
        0f, -0f, 1f, -1.5f, float.Epsilon, float.MaxValue, float.MinValue,
        float.PositiveInfinity, float.NegativeInfinity, BitConverter.Int32BitsToSingle(0x7FC0_1234),
    ];

    [Fact]
    public void Writer_and_reader_round_trip_shapes_values_and_metadata_bit_exactly()
    {
        var tensors = new Dictionary<string, FloatTensor>
        {
            ["weight_ih_l0"] = new([2, 5], AwkwardValues),
            ["bias_ih_l0"] = new([3], new float[] { 0.1f, 0.2f, 0.3f }),
            ["scalar"] = new([], new float[] { 42f }),
            ["empty"] = new([0, 4], ReadOnlyMemory<float>.Empty),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode + \"quotes\"" };

        var file = Safetensors.Read(WriteToBytes(tensors, metadata));

        Assert.Equal(tensors.Keys.Order(StringComparer.Ordinal), file.Entries.Keys);
        foreach (var (name, expected) in tensors)
        {
            Assert.Equal("F32", file.Entries[name].DType);
            var actual = file.ReadFloat(name);
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(Bits(expected.Data.Span), Bits(actual.Data.Span));
        }

        Assert.Equal(metadata.OrderBy(p => p.Key), file.Metadata.OrderBy(p => p.Key));
    }

    [Fact]
    public void Writer_pads_the_header_with_spaces_to_a_multiple_of_8_bytes()
    {
        for (var nameLength = 1; nameLength <= 8; nameLength++)
        {
            var tensors = new Dictionary<string, FloatTensor> { [new string('w', nameLength)] = new([1], new float[] { 1f }) };

            var bytes = WriteToBytes(tensors);

            var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(0, headerLength % 8);
            var header = Encoding.UTF8.GetString(bytes, 8, headerLength);
            var json = header.TrimEnd(' ');
            Assert.EndsWith("}", json, StringComparison.Ordinal);
            Assert.InRange(header.Length - json.Length, 0, 7);
            Assert.Equal(8 + headerLength + 4, bytes.Length);
        }
    }

    [Fact]
    public void Writer_lays_tensors_out_contiguously_in_ordinal_key_order()
    {
        var tensors = new Dictionary<string, FloatTensor>
        {
            ["b"] = new([2], new float[] { 3f, 4f }),
            ["B"] = new([1], new float[] { 2f }),
            ["a"] = new([3], new float[] { 5f, 6f, 7f }),
            ["A"] = new([1], new float[] { 1f }),
        };

        var bytes = WriteToBytes(tensors);

        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        using var header = JsonDocument.Parse(bytes.AsMemory(8, headerLength));
        long Offset(string name, int i) => header.RootElement.GetProperty(name).GetProperty("data_offsets")[i].GetInt64();
        Assert.Equal((0L, 4L), (Offset("A", 0), Offset("A", 1)));
        Assert.Equal((4L, 8L), (Offset("B", 0), Offset("B", 1)));
        Assert.Equal((8L, 20L), (Offset("a", 0), Offset("a", 1)));
        Assert.Equal((20L, 28L), (Offset("b", 0), Offset("b", 1)));
        Assert.Equal(SafetensorsBytes.Floats(1, 2, 5, 6, 7, 3, 4), bytes[(8 + headerLength)..]);
    }

    [Fact]
    public void Writer_output_matches_a_hand_built_file_byte_for_byte()
    {
        var tensors = new Dictionary<string, FloatTensor> { ["w"] = new([2], new float[] { 1f, -2f }) };
        var header = "{" + SafetensorsBytes.Entry("w", "F32", "[2]", 0, 8) + "}";
        var padded = header + new string(' ', (8 - (header.Length % 8)) % 8);

        Assert.Equal(SafetensorsBytes.Build(padded, SafetensorsBytes.Floats(1f, -2f)), WriteToBytes(tensors));
    }

    [Fact]
    public void Writing_a_file_replaces_it_whole_and_leaves_no_temporary_file()
    {
        using var dir = new TempDirectory();
        var path = dir.File("model.safetensors");
        File.WriteAllText(path, "an older, longer file that must disappear entirely");
        var tensors = new Dictionary<string, FloatTensor> { ["w"] = new([2, 2], new float[] { 1f, 2f, 3f, 4f }) };

        Safetensors.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });

        Assert.Equal([path], Directory.GetFiles(dir.Path));
        var file = Safetensors.Read(path);
        Assert.Equal(path, file.Source);
        Assert.Equal(new float[] { 1f, 2f, 3f, 4f }, file.ReadFloat("w").Data.ToArray());
        Assert.Equal("pt", file.Metadata["format"]);
    }

    [Fact]
    public void Writer_refuses_the_reserved_metadata_name_as_a_tensor_name()
    {
        var tensors = new Dictionary<string, FloatTensor> { ["__metadata__"] = new([1], new float[] { 1f }) };

        var e = Assert.Throws<ArgumentException>(() => WriteToBytes(tensors));

        Assert.Contains("__metadata__", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_write_leaves_the_previous_file_and_no_temporary_file()
    {
        using var dir = new TempDirectory();
        var path = dir.File("model.safetensors");
        Safetensors.Write(path, new Dictionary<string, FloatTensor> { ["w"] = new([1], new float[] { 7f }) });
        var before = File.ReadAllBytes(path);
        var invalid = new Dictionary<string, FloatTensor> { [""] = new([1], new float[] { 1f }) };

        Assert.Throws<ArgumentException>(() => Safetensors.Write(path, invalid));

        Assert.Equal([path], Directory.GetFiles(dir.Path));
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void Reading_a_missing_file_names_its_full_path()
    {
        using var dir = new TempDirectory();
        var path = dir.File("absent.safetensors");

        var e = Assert.Throws<FileNotFoundException>(() => Safetensors.Read(path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Reader_reports_no_metadata_as_an_empty_map()
    {
        var bytes = SafetensorsBytes.Build("{" + SafetensorsBytes.Entry("w", "F32", "[1]", 0, 4) + "}", SafetensorsBytes.Floats(3f));

        var file = Safetensors.Read(bytes);

        Assert.Empty(file.Metadata);
        Assert.Null(file.Source);
        Assert.Equal(new float[] { 3f }, file.ReadFloat("w").Data.ToArray());
    }

    private static byte[] WriteToBytes(IReadOnlyDictionary<string, FloatTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var stream = new MemoryStream();
        Safetensors.Write(stream, tensors, metadata);
        return stream.ToArray();
    }

    private static int[] Bits(ReadOnlySpan<float> values)
    {
        var bits = new int[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            bits[i] = BitConverter.SingleToInt32Bits(values[i]);
        }

        return bits;
    }
}
