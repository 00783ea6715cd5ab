using Streaming.Cells.Model;

namespace Streaming.Cells.Tests.Weights;

/// <summary>The vocabulary file beside a character model's manifest: id i is the i-th character.</summary>
public sealed class CharVocabularyTests
{
    [Fact]
    public void Ids_are_positions_in_the_list_and_encode_and_decode_are_inverse()
    {
        var vocabulary = CharVocabulary.Parse("""{ "format": "char-vocabulary/1", "characters": ["\n", " ", "a", "b", "\"", "\\"] }""");

        Assert.Equal(6, vocabulary.Count);
        Assert.Equal([2, 3, 1, 4, 5, 0], vocabulary.Encode("ab \"\\\n"));
        Assert.Equal("ab \"\\\n", vocabulary.Decode([2, 3, 1, 4, 5, 0]));
        Assert.True(vocabulary.Contains('\n'));
        Assert.False(vocabulary.Contains('c'));
    }

    [Fact]
    public void The_json_it_writes_reads_back_as_the_same_vocabulary_with_printable_characters_unescaped()
    {
        var vocabulary = new CharVocabulary(new[] { '\n' }.Concat(Enumerable.Range(' ', 95).Select(c => (char)c)));

        var json = vocabulary.ToJson();

        Assert.Equal(vocabulary.Characters, CharVocabulary.Parse(json).Characters);
        Assert.StartsWith("{\n  \"format\": \"char-vocabulary/1\",\n  \"characters\": [\n    \"\\n\",\n    \" \",\n", json, StringComparison.Ordinal);
        Assert.Contains("\n    \"<\",\n    \"=\",\n    \">\",\n", json, StringComparison.Ordinal);
        Assert.Contains("\n    \"\\\"\",\n", json, StringComparison.Ordinal);
        Assert.EndsWith("\"~\"\n  ]\n}\n", json, StringComparison.Ordinal);
    }

    [Fact]
    public void The_file_of_a_manifest_is_beside_it_named_after_it()
    {
        Assert.Equal(Path.Combine("models", "char-english.vocab.json"), CharVocabulary.PathFor(Path.Combine("models", "char-english.json")));
    }

    [Fact]
    public void Encoding_a_character_without_an_id_names_it_and_where_it_is()
    {
        var vocabulary = new CharVocabulary("abc ");

        var error = Assert.Throws<ArgumentException>(() => vocabulary.Encode("a cab\u00e9"));

        Assert.Contains("character '\u00e9' (U+00E9) at index 5 is not in the vocabulary of 4 characters", error.Message, StringComparison.Ordinal);
        Assert.Contains("token id 4 is outside the vocabulary's 0..3", Assert.Throws<ArgumentOutOfRangeException>(() => vocabulary.Decode([0, 4])).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "format": "char-vocabulary/1" }""", "characters is missing; expected an array of one-character strings.")]
    [InlineData("""{ "format": "char-vocabulary/1", "characters": "abc" }""", "characters is a string; expected an array of one-character strings.")]
    [InlineData("""{ "format": "char-vocabulary/1", "characters": [] }""", "characters is empty; expected at least one character.")]
    [InlineData("""{ "format": "char-vocabulary/1", "characters": ["a", "bc"] }""", "characters[1] is a string of 2 UTF-16 units; expected a string of exactly one character.")]
    [InlineData("""{ "format": "char-vocabulary/1", "characters": ["a", 7] }""", "characters[1] is a number; expected a string of exactly one character.")]
    [InlineData("""{ "format": "char-vocabulary/1", "characters": ["a", " ", "a"] }""", "characters[2] is 'a' (U+0061), already characters[0]; expected each character once.")]
    [InlineData("""{ "format": "char-vocabulary/2", "characters": ["a"] }""", "format is 'char-vocabulary/2'; expected 'char-vocabulary/1'.")]
    [InlineData("""{ "characters": ["a"] }""", "format is missing; expected a non-empty string.")]
    [InlineData("""{ "format": "char-vocabulary/1", "characters": ["a"], "unknown": "?" }""", "unknown setting 'unknown'; expected one of: format, characters.")]
    [InlineData("""["a"]""", "the vocabulary is an array; expected a JSON object.")]
    [InlineData("""{ "format": """, "the vocabulary is not valid JSON")]
    public void A_malformed_vocabulary_is_refused_naming_the_key_or_entry(string json, string message)
    {
        var error = Assert.Throws<InvalidModelSpecException>(() => CharVocabulary.Parse(json));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_fails_to_load_is_named_in_the_message()
    {
        using var directory = new TempDirectory();
        var path = directory.File("m.vocab.json");
        File.WriteAllText(path, """{ "format": "char-vocabulary/1", "characters": ["x", "x"] }""");

        var error = Assert.Throws<InvalidModelSpecException>(() => CharVocabulary.Load(path));

        Assert.StartsWith($"{path}: characters[1] is 'x' (U+0078), already characters[0]", error.Message, StringComparison.Ordinal);
    }
}
