namespace Streaming.Cells.Model;

/// <summary>A model description (spec or manifest) that cannot describe a valid model; the message says why.</summary>
public sealed class InvalidModelSpecException : Exception
{
    /// <summary>Creates the exception with a message naming the setting, what was expected and what was found.</summary>
    public InvalidModelSpecException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner cause (a JSON error, say).</summary>
    public InvalidModelSpecException(string message, Exception inner) : base(message, inner) { }
}
