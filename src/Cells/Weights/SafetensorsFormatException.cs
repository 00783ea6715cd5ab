namespace Streaming.Cells.Weights;

/// <summary>
/// A safetensors file that cannot be read as such, or a tensor in it that cannot be read as requested:
/// the message names the file when known, what was wrong, what was expected and what was found.
/// </summary>
public sealed class SafetensorsFormatException : Exception
{
    /// <summary>Creates the exception with a message naming the problem.</summary>
    public SafetensorsFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner cause (a JSON error, say).</summary>
    public SafetensorsFormatException(string message, Exception inner) : base(message, inner) { }
}
