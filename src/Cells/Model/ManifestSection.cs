using System.Text.Json;

namespace Streaming.Cells.Model;

/// <summary>
/// One JSON object of a model manifest, read setting by setting. Every error names the setting by its
/// JSON path; keys the section does not know are refused up front, so a typo never passes silently.
/// Absent and null both mean "use the default" for optional settings.
/// </summary>
internal sealed class ManifestSection
{
    private readonly string path;
    private readonly Dictionary<string, JsonElement> values = new(StringComparer.Ordinal);

    private ManifestSection(JsonElement element, string path, string[] known)
    {
        this.path = path;
        if (element.ValueKind != JsonValueKind.Object)
        {
            var what = path.Length == 0 ? "the manifest" : path;
            throw new InvalidModelSpecException($"{what} is {Describe(element)}; expected a JSON object.");
        }

        foreach (var property in element.EnumerateObject())
        {
            var key = JsonText.Name(property)
                ?? throw new InvalidModelSpecException($"{(path.Length == 0 ? "the manifest" : path)} has a key that is not valid Unicode (an unpaired surrogate escape such as \\ud800); expected one of: {string.Join(", ", known)}.");
            if (Array.IndexOf(known, key) < 0)
            {
                throw new InvalidModelSpecException(
                    $"unknown setting '{Name(key)}'; expected one of: {string.Join(", ", known)}.");
            }

            if (!values.TryAdd(key, property.Value))
            {
                throw new InvalidModelSpecException($"{Name(key)} appears twice; expected it once.");
            }
        }
    }

    /// <summary>Reads <paramref name="element"/> as an object whose keys must all be in <paramref name="known"/>.</summary>
    internal static ManifestSection Of(JsonElement element, string path, params string[] known) => new(element, path, known);

    internal ManifestSection? OptionalSection(string key, params string[] known) =>
        Find(key) is { } value ? new ManifestSection(value, Name(key), known) : null;

    internal ManifestSection RequiredSection(string key, params string[] known) =>
        new(Required(key, "a JSON object"), Name(key), known);

    internal string RequiredString(string key)
    {
        var text = String(Required(key, "a non-empty string"), key);
        return text.Length > 0 ? text : throw new InvalidModelSpecException($"{Name(key)} is empty; expected a non-empty string.");
    }

    internal string? OptionalString(string key) => Find(key) is { } value ? String(value, key) : null;

    internal int RequiredInt(string key) => Int(Required(key, "an integer"), key);

    internal int OptionalInt(string key, int defaultValue) => Find(key) is { } value ? Int(value, key) : defaultValue;

    internal bool OptionalBool(string key, bool defaultValue)
    {
        if (Find(key) is not { } value)
        {
            return defaultValue;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw WrongType(key, value, "true or false"),
        };
    }

    internal double OptionalNumber(string key, double defaultValue)
    {
        if (Find(key) is not { } value)
        {
            return defaultValue;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number)
            ? number
            : throw WrongType(key, value, "a number");
    }

    /// <summary>The JSON path of <paramref name="key"/> in this section, e.g. <c>recurrent.hidden_size</c>.</summary>
    internal string Name(string key) => path.Length == 0 ? key : $"{path}.{key}";

    private JsonElement? Find(string key) =>
        values.TryGetValue(key, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private JsonElement Required(string key, string expected) =>
        Find(key) ?? throw new InvalidModelSpecException(
            values.ContainsKey(key) ? $"{Name(key)} is null; expected {expected}." : $"{Name(key)} is missing; expected {expected}.");

    private string String(JsonElement value, string key) =>
        value.ValueKind != JsonValueKind.String
            ? throw WrongType(key, value, "a string")
            : JsonText.String(value) ?? throw new InvalidModelSpecException(
                $"{Name(key)} is the string {value.GetRawText()}, which is not valid Unicode (an unpaired surrogate escape); expected a string of whole characters.");

    private int Int(JsonElement value, string key) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
            ? number
            : throw WrongType(key, value, "an integer");

    private InvalidModelSpecException WrongType(string key, JsonElement value, string expected) =>
        new($"{Name(key)} is {Describe(value)}; expected {expected}.");

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the string {value.GetRawText()}",
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
