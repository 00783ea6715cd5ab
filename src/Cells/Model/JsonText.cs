using System.Text.Json;

namespace Streaming.Cells.Model;

/// <summary>
/// Reads the strings of a parsed JSON document that System.Text.Json may refuse to return: escapes that spell an
/// unpaired UTF-16 surrogate (<c>"\ud800"</c>) parse, yet <see cref="JsonElement.GetString"/> and
/// <see cref="JsonProperty.Name"/> throw <see cref="InvalidOperationException"/> for them. Null stands for such a
/// string, so that each format refuses it with its own exception.
/// </summary>
internal static class JsonText
{
    /// <summary>The property's name, or null when it is not valid Unicode.</summary>
    public static string? Name(JsonProperty property)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The string value of <paramref name="value"/> (of kind String), or null when it is not valid Unicode.</summary>
    public static string? String(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }
}
