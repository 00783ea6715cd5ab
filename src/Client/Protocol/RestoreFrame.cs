
namespace Streaming.Client.Protocol;

/// <summary>
/// Gives the session a snapshot's state and position, opening the session if it is not open.
/// Answered by an Ack, or an Error (MalformedSnapshot, ModelMismatch).
/// </summary>
/// <param name="Session">The session.</param>
/// <param name="Sequence">The client's sequence number.</param>
/// <param name="Snapshot">The snapshot's binary form (docs/protocol.md, "The snapshot's bytes"; <see cref="Client.Snapshot"/> reads it); the codec does not look inside.</param>
public sealed record RestoreFrame(string Session, ulong Sequence, ReadOnlyMemory<byte> Snapshot) : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.Restore;
}
