namespace Streaming.Client.Protocol;

/// <summary>The model's output for one token.</summary>
/// <param name="Session">The session.</param>
/// <param name="Sequence">The Token frame's sequence number.</param>
/// <param name="Position">The token's zero-based index in the session's stream (replayed steps included).</param>
/// <param name="Output">The output step: the head's out_features, else num_directions * output size floats.</param>
public sealed record OutputFrame(string Session, ulong Sequence, long Position, ReadOnlyMemory<float> Output)
    : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.Output;
}
