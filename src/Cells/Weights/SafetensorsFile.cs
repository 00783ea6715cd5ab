using System.Collections.ObjectModel;

namespace Streaming.Cells.Weights;

/// <summary>
/// A safetensors file read into memory, its header validated: the tensors it holds, their dtypes and
/// shapes, and its metadata. Tensors convert to fp32 only when read, so a file may hold tensors of other
/// dtypes (an int64 <c>num_batches_tracked</c>, say) as long as nobody asks for them as floats.
/// Immutable and safe to share between threads.
/// </summary>
public sealed class SafetensorsFile
{
    private readonly ReadOnlyMemory<byte> data;

    internal SafetensorsFile(
        string? source,
        ReadOnlyMemory<byte> data,
        SortedDictionary<string, SafetensorsEntry> entries,
        SortedDictionary<string, string> metadata)
    {
        Source = source;
        this.data = data;
        Entries = new ReadOnlyDictionary<string, SafetensorsEntry>(entries);
        Metadata = new ReadOnlyDictionary<string, string>(metadata);
    }

    /// <summary>The path the file was read from, or the name given for in-memory data; null when none was given.</summary>
    public string? Source { get; }

    /// <summary>Every tensor in the file by name, in ordinal name order.</summary>
    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }

    /// <summary>The header's <c>__metadata__</c> (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Reads tensor <paramref name="name"/> as fp32, converting from F16, BF16 or F64 when stored so.</summary>
    /// <exception cref="KeyNotFoundException">The file holds no tensor of that name.</exception>
    /// <exception cref="SafetensorsFormatException">The tensor's dtype is not floating-point.</exception>
    public FloatTensor ReadFloat(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Entries.TryGetValue(name, out var entry))
        {
            var where = Source is null ? "the safetensors data" : Source;
            throw new KeyNotFoundException($"{where} holds no tensor named '{name}'; it holds {Entries.Count} tensor(s): {NameList()}.");
        }

        if (!entry.IsFloatingPoint)
        {
            throw SafetensorsReader.Invalid(
                Source, $"tensor '{name}' has dtype {entry.DType}; expected a floating-point dtype ({SafetensorsDTypes.FloatingPointNames}) to read it as fp32");
        }

        var count = 1L;
        foreach (var d in entry.Shape)
        {
            count *= d;
        }

        if (count > Array.MaxLength)
        {
            throw SafetensorsReader.Invalid(Source, $"tensor '{name}' has {count} elements; expected at most {Array.MaxLength} to read it as one fp32 array");
        }

        var values = new float[count];
        var bytes = data.Span.Slice((int)entry.DataBegin, (int)entry.ByteLength);
        SafetensorsDTypes.ConvertToSingle(entry.DType, bytes, values);
        return new FloatTensor(entry.Shape, values);
    }

    /// <summary>
    /// A read-only view of every tensor by name, converting each to fp32 when it is read (and again on every
    /// read: copy what you keep). Reading a tensor whose dtype is not floating-point throws
    /// <see cref="SafetensorsFormatException"/>; listing the keys never does. Suits
    /// <see cref="ModelWeights.FromTensors"/>, which reads only the keys its model needs.
    /// </summary>
    public IReadOnlyDictionary<string, FloatTensor> AsFloatTensors() => new SafetensorsFloatView(this);

    private string NameList()
    {
        const int Shown = 20;
        var names = string.Join(", ", Entries.Keys.Take(Shown).Select(n => $"'{n}'"));
        return Entries.Count > Shown ? names + ", ..." : names;
    }
}
