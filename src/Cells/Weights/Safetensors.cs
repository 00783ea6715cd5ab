namespace Streaming.Cells.Weights;

/// <summary>
/// Reads and writes the safetensors format (<c>safetensors.torch.save_file</c>): an 8-byte little-endian
/// header length N, N bytes of JSON describing each tensor (dtype, shape, byte offsets) plus optional
/// <c>__metadata__</c>, then the raw little-endian data.
/// </summary>
public static class Safetensors
{
    /// <summary>Reads and validates the file at <paramref name="path"/>; its tensors convert to fp32 when read.</summary>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="SafetensorsFormatException">The file is not valid safetensors; the message says where and why.</exception>
    public static SafetensorsFile Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"safetensors file '{info.FullName}' does not exist.", info.FullName);
        }

        if (info.Length > Array.MaxLength)
        {
            throw SafetensorsReader.Invalid(path, $"it is {info.Length} bytes long; expected at most {Array.MaxLength} bytes, the most this reader holds in memory");
        }

        return SafetensorsReader.Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Reads and validates safetensors data held in memory; the data is kept, not copied.</summary>
    /// <param name="bytes">The whole file's bytes; they must not change while the result is in use.</param>
    /// <param name="sourceName">A name for error messages (a path, say); optional.</param>
    /// <exception cref="SafetensorsFormatException">The data is not valid safetensors.</exception>
    public static SafetensorsFile Read(ReadOnlyMemory<byte> bytes, string? sourceName = null) =>
        SafetensorsReader.Parse(bytes, sourceName);

    /// <summary>
    /// Writes <paramref name="tensors"/> as F32 to <paramref name="path"/>, replacing any file there. The file
    /// is written beside the target and then moved over it, so a crash never leaves half a file.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <param name="tensors">Tensors by name; laid out in ordinal name order.</param>
    /// <param name="metadata">Optional <c>__metadata__</c> strings (default none).</param>
    public static void Write(
        string path,
        IReadOnlyDictionary<string, FloatTensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        SafetensorsWriter.WriteFile(path, tensors, metadata);
    }

    /// <summary>Writes <paramref name="tensors"/> as F32 safetensors to <paramref name="stream"/>.</summary>
    /// <param name="stream">Where the bytes go; left open.</param>
    /// <param name="tensors">Tensors by name; laid out in ordinal name order.</param>
    /// <param name="metadata">Optional <c>__metadata__</c> strings (default none).</param>
    public static void Write(
        Stream stream,
        IReadOnlyDictionary<string, FloatTensor> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        SafetensorsWriter.Write(stream, tensors, metadata);
    }
}
