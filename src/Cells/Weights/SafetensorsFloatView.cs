using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Streaming.Cells.Weights;

/// <summary>The lazy fp32 view behind <see cref="SafetensorsFile.AsFloatTensors"/>.</summary>
internal sealed class SafetensorsFloatView(SafetensorsFile file) : IReadOnlyDictionary<string, FloatTensor>
{
    public FloatTensor this[string key] => file.ReadFloat(key);

    public IEnumerable<string> Keys => file.Entries.Keys;

    public IEnumerable<FloatTensor> Values => file.Entries.Keys.Select(file.ReadFloat);

    public int Count => file.Entries.Count;

    public bool ContainsKey(string key) => file.Entries.ContainsKey(key);

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out FloatTensor value)
    {
        value = file.Entries.ContainsKey(key) ? file.ReadFloat(key) : null;
        return value is not null;
    }

    public IEnumerator<KeyValuePair<string, FloatTensor>> GetEnumerator() =>
        file.Entries.Keys.Select(k => KeyValuePair.Create(k, file.ReadFloat(k))).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
