namespace Streaming.Client.Protocol;

/// <summary>Asks for the session's state after exactly the tokens sent before this frame. Answered by a SnapshotReply or an Error.</summary>
/// <param name="Session">The session.</param>
/// <param name="Sequence">The client's sequence number.</param>
public sealed record SnapshotRequestFrame(string Session, ulong Sequence) : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.SnapshotRequest;
}
