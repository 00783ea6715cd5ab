namespace Streaming.Cells.Torch;

/// <summary>Argument checks shared by the Torch backend's entry points; messages name the buffer, the expected and the found length.</summary>
internal static class BufferChecks
{
    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="found"/> equals <paramref name="expected"/>.</summary>
    public static void Length(string name, long expected, int found, string layout)
    {
        if (found != expected)
        {
            throw new ArgumentException($"{name} has {found} values; expected {expected} = {layout}.", name);
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless the buffer is empty or has <paramref name="expected"/> values.</summary>
    public static void EmptyOrLength(string name, long expected, int found, string layout)
    {
        if (found != 0 && found != expected)
        {
            throw new ArgumentException($"{name} has {found} values; expected 0 (zeros) or {expected} = {layout}.", name);
        }
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless <paramref name="value"/> is at least 1.</summary>
    public static void Positive(string name, int value)
    {
        if (value < 1)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} is {value}; expected at least 1.");
        }
    }
}
