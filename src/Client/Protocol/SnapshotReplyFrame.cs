
namespace Streaming.Client.Protocol;

/// <summary>The snapshot a SnapshotRequest asked for.</summary>
/// <param name="Session">The session.</param>
/// <param name="Sequence">The SnapshotRequest's sequence number.</param>
/// <param name="Snapshot">The snapshot's binary form (docs/protocol.md, "The snapshot's bytes"; <see cref="Client.Snapshot"/> reads it).</param>
public sealed record SnapshotReplyFrame(string Session, ulong Sequence, ReadOnlyMemory<byte> Snapshot) : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.SnapshotReply;
}
