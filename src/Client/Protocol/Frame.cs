namespace Streaming.Client.Protocol;

/// <summary>
/// One frame of the TCP protocol (docs/protocol.md): a closed hierarchy of immutable records, one per
/// <see cref="FrameType"/>, encoded and decoded by <see cref="FrameCodec"/>. Equality of frames that
/// carry vectors or bytes compares those buffers by reference, as <see cref="ReadOnlyMemory{T}"/> does;
/// compare encodings to compare contents.
/// </summary>
public abstract record Frame
{
    private protected Frame()
    {
    }

    /// <summary>The frame's type byte on the wire.</summary>
    public abstract FrameType Type { get; }
}
