namespace Streaming.Client.Protocol;

/// <summary>The answer to a <see cref="PingFrame"/>.</summary>
/// <param name="Nonce">The Ping's nonce.</param>
public sealed record PongFrame(ulong Nonce) : Frame
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.Pong;
}
