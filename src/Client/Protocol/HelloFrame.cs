namespace Streaming.Client.Protocol;

/// <summary>The client's first frame: the magic <c>RNNP</c> (written by the codec) and the protocol version it speaks.</summary>
/// <param name="Version">The protocol version; <see cref="FrameCodec.ProtocolVersion"/> for this library.</param>
public sealed record HelloFrame(ushort Version) : Frame
{
    /// <summary>A Hello for this library's protocol version.</summary>
    public static HelloFrame Current { get; } = new(FrameCodec.ProtocolVersion);

    /// <inheritdoc/>
    public override FrameType Type => FrameType.Hello;
}
