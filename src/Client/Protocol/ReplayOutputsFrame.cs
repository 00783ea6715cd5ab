namespace Streaming.Client.Protocol;

/// <summary>
/// Outputs of consecutive steps of one replay. A replay's outputs come in one or more of these, in
/// order, each within the maximum frame size, together covering exactly the replay's steps.
/// </summary>
/// <param name="Session">The session.</param>
/// <param name="Sequence">The Replay frame's sequence number.</param>
/// <param name="Position">The zero-based stream position of the first step in this frame.</param>
/// <param name="Steps">Steps in this frame.</param>
/// <param name="Width">Floats per output step (at least 1).</param>
/// <param name="Outputs">The outputs, (steps, width) row-major.</param>
public sealed record ReplayOutputsFrame(string Session, ulong Sequence, long Position, int Steps, int Width, ReadOnlyMemory<float> Outputs)
    : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.ReplayOutputs;
}
