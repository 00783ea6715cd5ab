namespace Streaming.Host.Recording;

/// <summary>A recording file breaks its format; the message starts with the file and line number and names the field, what was expected and what was found.</summary>
public sealed class RecordingFormatException : Exception
{
    /// <summary>Creates the exception; the message is "<paramref name="sourceName"/>: line <paramref name="lineNumber"/>: <paramref name="problem"/>".</summary>
    public RecordingFormatException(string sourceName, int lineNumber, string? field, string problem)
        : base($"{sourceName}: line {lineNumber}: {problem}")
    {
        SourceName = sourceName;
        LineNumber = lineNumber;
        Field = field;
    }

    /// <summary>The recording's file name (or the name its reader was given).</summary>
    public string SourceName { get; }

    /// <summary>The 1-based line the problem is on.</summary>
    public int LineNumber { get; }

    /// <summary>The JSON field concerned, or null when the problem is the line as a whole.</summary>
    public string? Field { get; }
}
