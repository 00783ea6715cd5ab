using System.Collections.ObjectModel;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Streaming.Cells.Model;

/// <summary>
/// How a character-level model's token ids map to characters: id <c>i</c> is <see cref="Characters"/>[i]. It lives
/// in a file beside the manifest (<c>char-english.json</c> has <c>char-english.vocab.json</c>, see
/// <see cref="PathFor"/>), because the manifest describes PyTorch modules and has no place for it:
/// <code>
/// { "format": "char-vocabulary/1", "characters": ["\n", " ", "!", ...] }
/// </code>
/// Every entry is exactly one character (one UTF-16 code unit), and no character appears twice. Unknown keys are errors.
/// </summary>
public sealed class CharVocabulary
{
    /// <summary>The value of the file's <c>format</c> key.</summary>
    public const string Format = "char-vocabulary/1";

    private static readonly JsonDocumentOptions JsonOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private readonly Dictionary<char, int> ids;

    /// <summary>Creates the vocabulary whose id <c>i</c> is <paramref name="characters"/>[i].</summary>
    /// <exception cref="ArgumentException">The list is empty or names a character twice.</exception>
    public CharVocabulary(IEnumerable<char> characters)
    {
        ArgumentNullException.ThrowIfNull(characters);
        var list = characters.ToArray();
        if (list.Length == 0)
        {
            throw new ArgumentException("a vocabulary needs at least one character.", nameof(characters));
        }

        ids = new Dictionary<char, int>(list.Length);
        for (var id = 0; id < list.Length; id++)
        {
            if (!ids.TryAdd(list[id], id))
            {
                throw new ArgumentException($"character {Show(list[id])} is both id {ids[list[id]]} and id {id}; expected each character once.", nameof(characters));
            }
        }

        Characters = new ReadOnlyCollection<char>(list);
    }

    /// <summary>The characters by id.</summary>
    public IReadOnlyList<char> Characters { get; }

    /// <summary>The number of ids: the model's <c>num_embeddings</c> and its head's <c>out_features</c>.</summary>
    public int Count => Characters.Count;

    /// <summary>The vocabulary file of the manifest at <paramref name="manifestPath"/>: <c>name.json</c> gives <c>name.vocab.json</c>.</summary>
    public static string PathFor(string manifestPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(manifestPath);
        return Path.ChangeExtension(manifestPath, ".vocab.json");
    }

    /// <summary>Reads the vocabulary file at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidModelSpecException">The file is not a valid vocabulary; the message starts with its path.</exception>
    public static CharVocabulary Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var full = Path.GetFullPath(path);
        try
        {
            return Parse(File.ReadAllText(full));
        }
        catch (InvalidModelSpecException e)
        {
            throw new InvalidModelSpecException($"{full}: {e.Message}", e);
        }
    }

    /// <summary>Parses vocabulary JSON.</summary>
    /// <exception cref="InvalidModelSpecException">The JSON is not a valid vocabulary; the message names the key or entry.</exception>
    public static CharVocabulary Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidModelSpecException($"the vocabulary is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidModelSpecException($"the vocabulary is {Describe(document.RootElement.ValueKind)}; expected a JSON object.");
            }

            var root = ManifestSection.Of(document.RootElement, "", "format", "characters");
            var format = root.RequiredString("format");
            if (format != Format)
            {
                throw new InvalidModelSpecException($"format is '{format}'; expected '{Format}'.");
            }

            return new CharVocabulary(ReadCharacters(document.RootElement));
        }
    }

    /// <summary>Whether <paramref name="character"/> has an id.</summary>
    public bool Contains(char character) => ids.ContainsKey(character);

    /// <summary>The ids of <paramref name="text"/>'s characters, in order.</summary>
    /// <exception cref="ArgumentException">A character of the text has no id; the message names it and its index.</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new int[text.Length];
        for (var i = 0; i < text.Length; i++)
        {
            result[i] = ids.TryGetValue(text[i], out var id)
                ? id
                : throw new ArgumentException($"character {Show(text[i])} at index {i} is not in the vocabulary of {Count} characters.", nameof(text));
        }

        return result;
    }

    /// <summary>The text the ids stand for.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside 0..Count-1.</exception>
    public string Decode(IEnumerable<int> tokenIds)
    {
        ArgumentNullException.ThrowIfNull(tokenIds);
        var text = new StringBuilder();
        foreach (var id in tokenIds)
        {
            text.Append((uint)id < (uint)Count
                ? Characters[id]
                : throw new ArgumentOutOfRangeException(nameof(tokenIds), id, $"token id {id} is outside the vocabulary's 0..{Count - 1}."));
        }

        return text.ToString();
    }

    /// <summary>The vocabulary as its file's JSON, one character a line, with '\n' line ends on every platform.</summary>
    public string ToJson()
    {
        var buffer = new MemoryStream();
        // Relaxed escaping writes printable characters as themselves, so the file reads as the alphabet it is.
        var options = new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        using (var json = new Utf8JsonWriter(buffer, options))
        {
            json.WriteStartObject();
            json.WriteString("format", Format);
            json.WriteStartArray("characters");
            foreach (var character in Characters)
            {
                json.WriteStringValue(character.ToString());
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray()).ReplaceLineEndings("\n") + "\n";
    }

    private static List<char> ReadCharacters(JsonElement root)
    {
        if (!root.TryGetProperty("characters", out var array) || array.ValueKind == JsonValueKind.Null)
        {
            throw new InvalidModelSpecException("characters is missing; expected an array of one-character strings.");
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidModelSpecException($"characters is {Describe(array.ValueKind)}; expected an array of one-character strings.");
        }

        var characters = new List<char>();
        var seen = new Dictionary<char, int>();
        foreach (var entry in array.EnumerateArray())
        {
            var id = characters.Count;
            var text = entry.ValueKind == JsonValueKind.String ? entry.GetString()! : null;
            if (text is not { Length: 1 })
            {
                var found = text is null ? Describe(entry.ValueKind) : $"a string of {text.Length} UTF-16 units";
                throw new InvalidModelSpecException($"characters[{id}] is {found}; expected a string of exactly one character.");
            }

            if (!seen.TryAdd(text[0], id))
            {
                throw new InvalidModelSpecException($"characters[{id}] is {Show(text[0])}, already characters[{seen[text[0]]}]; expected each character once.");
            }

            characters.Add(text[0]);
        }

        return characters.Count > 0
            ? characters
            : throw new InvalidModelSpecException("characters is empty; expected at least one character.");
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => "null",
    };

    private static string Show(char c) => char.IsControl(c) || char.IsWhiteSpace(c) ? $"U+{(int)c:X4}" : $"'{c}' (U+{(int)c:X4})";
}
