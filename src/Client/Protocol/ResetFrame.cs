namespace Streaming.Client.Protocol;

/// <summary>Sets the session's state to zeros, after the tokens sent before it. Answered by an Ack or an Error.</summary>
/// <param name="Session">The session.</param>
/// <param name="Sequence">The client's sequence number.</param>
public sealed record ResetFrame(string Session, ulong Sequence) : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.Reset;
}
