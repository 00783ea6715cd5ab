namespace Streaming.Client.Protocol;

/// <summary>Asks the server for a <see cref="StatusFrame"/> carrying the same nonce; only a client sends it.</summary>
/// <param name="Nonce">Any value; echoed in the Status.</param>
public sealed record StatusRequestFrame(ulong Nonce) : Frame
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.StatusRequest;
}
