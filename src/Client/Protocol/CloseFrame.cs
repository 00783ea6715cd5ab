namespace Streaming.Client.Protocol;

/// <summary>Ends the session after the tokens sent before it and frees its state. Answered by an Ack or an Error.</summary>
/// <param name="Session">The session.</param>
/// <param name="Sequence">The client's sequence number.</param>
public sealed record CloseFrame(string Session, ulong Sequence) : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.Close;
}
