using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;
using Streaming.Cells.Model;

namespace Streaming.Cells.Weights;

/// <summary>Parses and validates the header of a safetensors file held in memory.</summary>
internal static class SafetensorsReader
{
    /// <summary>The largest header accepted, as in the reference implementation: anything longer is not a real header.</summary>
    internal const ulong MaxHeaderLength = 100_000_000;

    internal const string MetadataKey = "__metadata__";

    internal static SafetensorsFile Parse(ReadOnlyMemory<byte> bytes, string? source)
    {
        if (bytes.Length < 8)
        {
            throw Invalid(source, $"it is {bytes.Length} byte(s) long; expected at least 8 bytes (the header length)");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes.Span);
        var available = (ulong)(bytes.Length - 8);
        if (headerLength > MaxHeaderLength)
        {
            throw Invalid(source, $"the header length is {headerLength} bytes; expected at most {MaxHeaderLength} (is this a safetensors file?)");
        }

        if (headerLength > available)
        {
            throw Invalid(source, $"the header length is {headerLength} bytes but only {available} byte(s) follow the 8-byte length; the file is truncated or not safetensors");
        }

        var header = bytes.Slice(8, (int)headerLength);
        if (!Utf8.IsValid(header.Span))
        {
            throw Invalid(source, "the header is not valid UTF-8; expected UTF-8 JSON");
        }

        var data = bytes[(8 + (int)headerLength)..];
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw Invalid(source, $"the header is not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(source, $"the header is a JSON {Kind(root)}; expected an object of tensor entries");
            }

            var entries = new SortedDictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            SortedDictionary<string, string>? metadata = null;
            foreach (var property in root.EnumerateObject())
            {
                var name = JsonText.Name(property)
                    ?? throw Invalid(source, "a tensor name in the header is not valid Unicode (an unpaired surrogate escape such as \\ud800); expected names of whole characters");
                if (name == MetadataKey)
                {
                    if (metadata is not null)
                    {
                        throw Invalid(source, $"'{MetadataKey}' appears twice in the header; expected it at most once");
                    }

                    metadata = ParseMetadata(property.Value, source);
                    continue;
                }

                if (entries.ContainsKey(name))
                {
                    throw Invalid(source, $"tensor '{name}' appears twice in the header; expected unique names");
                }

                entries.Add(name, ParseEntry(name, property.Value, data.Length, source));
            }

            return new SafetensorsFile(source, data, entries, metadata ?? new SortedDictionary<string, string>(StringComparer.Ordinal));
        }
    }

    internal static SafetensorsFormatException Invalid(string? source, string problem, Exception? inner = null)
    {
        var message = source is null ? $"Invalid safetensors data: {problem}." : $"{source}: invalid safetensors file: {problem}.";
        return inner is null ? new SafetensorsFormatException(message) : new SafetensorsFormatException(message, inner);
    }

    private static SortedDictionary<string, string> ParseMetadata(JsonElement element, string? source)
    {
        var metadata = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (element.ValueKind == JsonValueKind.Null)
        {
            return metadata;
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(source, $"'{MetadataKey}' is a JSON {Kind(element)}; expected an object of string values");
        }

        foreach (var property in element.EnumerateObject())
        {
            var key = JsonText.Name(property)
                ?? throw Invalid(source, $"a '{MetadataKey}' key is not valid Unicode (an unpaired surrogate escape); expected keys of whole characters");
            if (property.Value.ValueKind != JsonValueKind.String)
            {
                throw Invalid(source, $"'{MetadataKey}' value '{key}' is a JSON {Kind(property.Value)}; expected a string");
            }

            var value = JsonText.String(property.Value)
                ?? throw Invalid(source, $"'{MetadataKey}' value '{key}' is {property.Value.GetRawText()}, which is not valid Unicode (an unpaired surrogate escape); expected a string of whole characters");
            if (!metadata.TryAdd(key, value))
            {
                throw Invalid(source, $"'{MetadataKey}' key '{key}' appears twice; expected unique keys");
            }
        }

        return metadata;
    }

    private static SafetensorsEntry ParseEntry(string name, JsonElement element, long dataLength, string? source)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(source, $"tensor '{name}' is described by a JSON {Kind(element)}; expected an object with dtype, shape and data_offsets");
        }

        // TryGetProperty reads every key it passes, and throws for one that is not valid Unicode: refuse such keys first.
        if (element.EnumerateObject().Any(property => JsonText.Name(property) is null))
        {
            throw Invalid(source, $"tensor '{name}' has a key that is not valid Unicode (an unpaired surrogate escape); expected dtype, shape and data_offsets");
        }

        var dtype = Require(element, name, "dtype", source);
        if (dtype.ValueKind != JsonValueKind.String)
        {
            throw Invalid(source, $"tensor '{name}': dtype is a JSON {Kind(dtype)}; expected a string such as \"F32\"");
        }

        var dtypeName = JsonText.String(dtype)
            ?? throw Invalid(source, $"tensor '{name}': dtype is {dtype.GetRawText()}, which is not valid Unicode (an unpaired surrogate escape); expected a string such as \"F32\"");
        var shape = ParseShape(name, Require(element, name, "shape", source), source);
        var (begin, end) = ParseOffsets(name, Require(element, name, "data_offsets", source), source);
        var offsets = $"[{begin}, {end}]";
        if (end < begin)
        {
            throw Invalid(source, $"tensor '{name}': data_offsets {offsets} end before they begin; expected begin <= end");
        }

        if (end > (ulong)dataLength)
        {
            throw Invalid(source, $"tensor '{name}': data_offsets {offsets} reach past the end of the data buffer ({dataLength} bytes)");
        }

        // A dtype this reader does not know has no known element size; it is kept, bounds-checked,
        // and refused only if someone asks for it as floats.
        if (SafetensorsDTypes.ElementSize(dtypeName) is { } size)
        {
            var expected = ByteLength(shape, size);
            if (expected != end - begin)
            {
                var needs = expected is null ? $"more than {long.MaxValue} bytes" : $"{expected} bytes";
                throw Invalid(
                    source,
                    $"tensor '{name}' ({dtypeName}, shape {FloatTensor.Describe(shape)}) needs {needs} but data_offsets {offsets} span {end - begin} bytes");
            }
        }

        return new SafetensorsEntry(name, dtypeName, shape, (long)begin, (long)end);
    }

    private static JsonElement Require(JsonElement entry, string name, string field, string? source) =>
        entry.TryGetProperty(field, out var value)
            ? value
            : throw Invalid(source, $"tensor '{name}' has no {field}; expected dtype, shape and data_offsets");

    private static int[] ParseShape(string name, JsonElement element, string? source)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(source, $"tensor '{name}': shape is a JSON {Kind(element)}; expected an array of sizes");
        }

        var shape = new int[element.GetArrayLength()];
        var i = 0;
        foreach (var d in element.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var size))
            {
                throw Invalid(source, $"tensor '{name}': shape {element.GetRawText()} has a dimension that is not an integer; expected sizes >= 0");
            }

            if (size < 0)
            {
                throw Invalid(source, $"tensor '{name}': shape {element.GetRawText()} has a negative dimension ({size}); expected sizes >= 0");
            }

            if (size > int.MaxValue)
            {
                throw Invalid(source, $"tensor '{name}': shape {element.GetRawText()} has a dimension of {size}; expected at most {int.MaxValue}");
            }

            shape[i++] = (int)size;
        }

        return shape;
    }

    private static (ulong Begin, ulong End) ParseOffsets(string name, JsonElement element, string? source)
    {
        if (element.ValueKind == JsonValueKind.Array && element.GetArrayLength() == 2
            && element[0].ValueKind == JsonValueKind.Number && element[0].TryGetUInt64(out var begin)
            && element[1].ValueKind == JsonValueKind.Number && element[1].TryGetUInt64(out var end))
        {
            return (begin, end);
        }

        throw Invalid(source, $"tensor '{name}': data_offsets is {element.GetRawText()}; expected [begin, end], two integers >= 0");
    }

    /// <summary>product(shape) * size, or null when that exceeds <see cref="long.MaxValue"/> (checked before each product, so nothing overflows).</summary>
    private static ulong? ByteLength(int[] shape, int size)
    {
        ulong bytes = (ulong)size;
        foreach (var d in shape)
        {
            if (d == 0)
            {
                return 0;
            }
        }

        foreach (var d in shape)
        {
            if (bytes > long.MaxValue / (ulong)d)
            {
                return null;
            }

            bytes *= (ulong)d;
        }

        return bytes;
    }

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };
}
