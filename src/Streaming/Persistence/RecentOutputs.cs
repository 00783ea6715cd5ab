namespace Streaming.Persistence;

/// <summary>
/// The outputs of a session's most recent tokens, kept with its state so that a token resent after its answer was
/// lost (a dropped connection, a crashed node) is answered DuplicateToken with its original output.
/// </summary>
/// <param name="First">The stream position of the first output kept (the index of its token).</param>
/// <param name="Width">Floats per output (the model's output size); at least 1.</param>
/// <param name="Values">(count, width) row-major: the outputs of positions <c>First</c> to <c>First + count - 1</c>.</param>
public sealed record RecentOutputs(long First, int Width, ReadOnlyMemory<float> Values)
{
    /// <summary>How many outputs are kept.</summary>
    public int Count => Values.Length / Width;

    /// <summary>The position after the last output kept.</summary>
    public long End => First + Count;

    /// <summary>The output of the token at <paramref name="position"/>, or null when it is not kept.</summary>
    public ReadOnlyMemory<float>? At(long position) =>
        position >= First && position < End ? Values.Slice((int)(position - First) * Width, Width) : null;
}
