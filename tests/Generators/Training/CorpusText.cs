using System.Globalization;
using System.Text;
using Streaming.Cells.Model;

namespace Streaming.Generators.Training;

/// <summary>
/// A training text reduced to the model's alphabet: newline and printable ASCII (space to '~'), 96 characters. The
/// vocabulary is fixed rather than read off the corpus, so that any ASCII text a client sends has ids, and an edited
/// corpus keeps the ids of the shipped model.
/// </summary>
/// <param name="Text">The text, every character in <see cref="Vocabulary"/>.</param>
/// <param name="Mapped">Characters that were replaced by an ASCII spelling (typographic quotes, dashes, accents, tabs).</param>
/// <param name="Dropped">Characters with no ASCII spelling, left out.</param>
internal sealed record CorpusText(string Text, int Mapped, int Dropped)
{
    /// <summary>Id 0 is '\n', id 1 is ' ', and printable ASCII follows in code order: id = code - 31.</summary>
    public static CharVocabulary Vocabulary { get; } =
        new(new[] { '\n' }.Concat(Enumerable.Range(' ', '~' - ' ' + 1).Select(c => (char)c)));

    public static CorpusText Load(string path) => Normalize(File.ReadAllText(path));

    /// <summary>Maps <paramref name="raw"/> into <see cref="Vocabulary"/>, counting what had to change.</summary>
    public static CorpusText Normalize(string raw)
    {
        var text = new StringBuilder(raw.Length);
        int mapped = 0, dropped = 0;
        foreach (var c in raw.ReplaceLineEndings("\n"))
        {
            if (Vocabulary.Contains(c))
            {
                text.Append(c);
            }
            else if (Spelling(c) is { Length: > 0 } ascii)
            {
                text.Append(ascii);
                mapped++;
            }
            else
            {
                dropped++;
            }
        }

        return new CorpusText(text.ToString(), mapped, dropped);
    }

    /// <summary>The text's ids.</summary>
    public int[] Ids() => Vocabulary.Encode(Text);

    private static string? Spelling(char c) => c switch
    {
        '\t' or '\u00a0' or '\u2009' or '\u202f' => " ",
        '\u2018' or '\u2019' or '\u201a' or '\u2032' => "'",
        '\u201c' or '\u201d' or '\u201e' or '\u2033' => "\"",
        '\u2010' or '\u2011' or '\u2012' or '\u2013' or '\u2212' => "-",
        '\u2014' or '\u2015' => "--",
        '\u2026' => "...",
        // A letter with an accent keeps its letter: e-acute becomes e.
        _ => Base(c),
    };

    private static string? Base(char c)
    {
        var stripped = c.ToString().Normalize(NormalizationForm.FormD)
            .Where(d => CharUnicodeInfo.GetUnicodeCategory(d) != UnicodeCategory.NonSpacingMark)
            .ToArray();
        return stripped.Length > 0 && stripped.All(Vocabulary.Contains) ? new string(stripped) : null;
    }
}
