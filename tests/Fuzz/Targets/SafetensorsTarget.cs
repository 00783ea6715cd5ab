using System.Buffers.Binary;
using System.Text;
using Streaming.Cells.Weights;

namespace Streaming.Fuzz.Targets;

/// <summary>
/// A safetensors file's bytes through <see cref="Safetensors.Read(ReadOnlyMemory{byte}, string?)"/>, then every
/// floating-point tensor through <see cref="SafetensorsFile.ReadFloat"/>. Contract: both throw only
/// <see cref="SafetensorsFormatException"/>; a tensor read holds as many floats as its shape says.
/// </summary>
internal sealed class SafetensorsTarget : FuzzTarget
{
    public override string Name => "safetensors";

    public override string Description => "Safetensors.Read and SafetensorsFile.ReadFloat on a file's bytes";

    public override IReadOnlyList<(string Assembly, string TypePrefixes)> Instrumented { get; } =
        [Instrument(typeof(Safetensors), typeof(Safetensors).FullName!, typeof(FloatTensor).FullName!)];

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds(string repositoryRoot)
    {
        // The shipped weights files under 1 KB; the others differ only in size.
        foreach (var path in Directory.GetFiles(Path.Combine(repositoryRoot, "tests", "recordings", "models"), "*.safetensors").Order(StringComparer.Ordinal))
        {
            if (new FileInfo(path).Length < 1024)
            {
                yield return (Path.GetFileName(path), File.ReadAllBytes(path));
            }
        }

        // Every dtype the reader widens, one it keeps without reading, metadata, and an empty tensor.
        yield return ("dtypes.safetensors", FileOf(
            "{\"__metadata__\":{\"format\":\"pt\"},"
            + "\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]},"
            + "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[4,8]},"
            + "\"c\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[8,16]},"
            + "\"d\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[16,24]},"
            + "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[24,24]}}",
            [0x00, 0x3C, 0x00, 0xC0, 0x80, 0x3F, 0x00, 0xC0, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 7, 0, 0, 0, 0, 0, 0, 0]));
    }

    protected override bool IsDocumented(Exception exception) => exception is SafetensorsFormatException;

    protected override void Run(byte[] input) => Attempt(() =>
    {
        var file = Safetensors.Read(input);
        foreach (var entry in file.Entries.Values.Where(e => e.IsFloatingPoint))
        {
            var tensor = file.ReadFloat(entry.Name);
            var count = entry.Shape.Aggregate(1L, (product, d) => product * d);
            if (tensor.Data.Length != count)
            {
                throw new ContractViolationException($"tensor '{entry.Name}' of shape [{string.Join(", ", entry.Shape)}] read as {tensor.Data.Length} float(s).");
            }
        }
    });

    /// <summary>A safetensors file: the header's length, the header, the data.</summary>
    private static byte[] FileOf(string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + json.Length);
        return bytes;
    }
}
