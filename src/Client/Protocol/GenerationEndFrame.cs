namespace Streaming.Client.Protocol;

/// <summary>The last frame of a generation that started: why it ended, how many steps it sent, and where the session is.</summary>
/// <param name="Session">The session.</param>
/// <param name="Sequence">The Generate frame's sequence number.</param>
/// <param name="Reason">Why it ended.</param>
/// <param name="Steps">The steps sent before this frame (every one of them was consumed by the session).</param>
/// <param name="Position">The session's position after the generation: the tokens it has consumed.</param>
public sealed record GenerationEndFrame(string Session, ulong Sequence, GenerationEndReason Reason, int Steps, long Position)
    : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.GenerationEnd;
}
