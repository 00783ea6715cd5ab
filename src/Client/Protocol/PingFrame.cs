namespace Streaming.Client.Protocol;

/// <summary>Asks the peer to answer with a <see cref="PongFrame"/> carrying the same nonce; either side may send it.</summary>
/// <param name="Nonce">Any value; echoed in the Pong.</param>
public sealed record PingFrame(ulong Nonce) : Frame
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.Ping;
}
