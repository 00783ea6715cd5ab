namespace Streaming.Client.Protocol;

/// <summary>An open, restore, reset or close succeeded.</summary>
/// <param name="Session">The session.</param>
/// <param name="Sequence">The acknowledged frame's sequence number.</param>
/// <param name="Acknowledged">The acknowledged frame's type: Open, Restore, Reset or Close.</param>
public sealed record AckFrame(string Session, ulong Sequence, FrameType Acknowledged) : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.Ack;
}
