using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Streaming.Cells.Weights;

/// <summary>Writes fp32 tensors in the safetensors layout.</summary>
internal static class SafetensorsWriter
{
    private static readonly JsonWriterOptions JsonOptions = new()
    {
        // Keeps non-ASCII names readable; the header is never embedded in HTML, so the relaxed escaping is safe.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    internal static void Write(
        Stream stream,
        IReadOnlyDictionary<string, FloatTensor> tensors,
        IReadOnlyDictionary<string, string>? metadata)
    {
        var names = tensors.Keys.Order(StringComparer.Ordinal).ToList();
        foreach (var name in names)
        {
            if (name.Length == 0 || name == SafetensorsReader.MetadataKey)
            {
                throw new ArgumentException($"tensor name '{name}' cannot be written; expected a non-empty name other than '{SafetensorsReader.MetadataKey}'.", nameof(tensors));
            }

            if (tensors[name] is null)
            {
                throw new ArgumentException($"tensor '{name}' is null; expected a tensor.", nameof(tensors));
            }
        }

        var header = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(header, JsonOptions))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(SafetensorsReader.MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    ArgumentNullException.ThrowIfNull(value, nameof(metadata));
                    json.WriteString(key, value);
                }

                json.WriteEndObject();
            }

            long offset = 0;
            foreach (var name in names)
            {
                var tensor = tensors[name];
                var end = offset + (4L * tensor.Data.Length);
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (var d in tensor.Shape)
                {
                    json.WriteNumberValue(d);
                }

                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(end);
                json.WriteEndArray();
                json.WriteEndObject();
                offset = end;
            }

            json.WriteEndObject();
        }

        // The reference implementation pads the header with spaces so the data buffer starts 8-byte aligned.
        var padding = (8 - (header.WrittenCount % 8)) % 8;
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)(header.WrittenCount + padding));
        stream.Write(prefix);
        stream.Write(header.WrittenSpan);
        for (var i = 0; i < padding; i++)
        {
            stream.WriteByte((byte)' ');
        }

        foreach (var name in names)
        {
            WriteLittleEndian(stream, tensors[name].Data.Span);
        }
    }

    internal static void WriteFile(
        string path,
        IReadOnlyDictionary<string, FloatTensor> tensors,
        IReadOnlyDictionary<string, string>? metadata)
    {
        var target = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(target) ?? throw new ArgumentException($"'{path}' names no file.", nameof(path));

        // Written beside the target and moved over it, so a crash leaves the old file or the new one, never half of one.
        var temporary = Path.Combine(directory, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                Write(stream, tensors, metadata);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, target, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    private static void WriteLittleEndian(Stream stream, ReadOnlySpan<float> values)
    {
        if (BitConverter.IsLittleEndian)
        {
            stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }

        Span<byte> buffer = stackalloc byte[4];
        foreach (var v in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(buffer, v);
            stream.Write(buffer);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // The original error matters more than a leftover temporary file.
        }
        catch (UnauthorizedAccessException)
        {
            // As above.
        }
    }
}
