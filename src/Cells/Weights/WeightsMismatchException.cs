namespace Streaming.Cells.Weights;

/// <summary>A weights file that does not match its model description: the message names the key, the expected shape and what was found.</summary>
public sealed class WeightsMismatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WeightsMismatchException(string message) : base(message) { }

    /// <summary>Creates the exception with an inner cause.</summary>
    public WeightsMismatchException(string message, Exception inner) : base(message, inner) { }
}
