namespace Streaming.Client.Protocol;

/// <summary>The server's answer to a Hello it accepts: what it serves and the limits it enforces.</summary>
/// <param name="Version">The protocol version of the connection.</param>
/// <param name="Model">The name of the model sessions get by default.</param>
/// <param name="TokenKind">Whether tokens are float vectors or integer ids.</param>
/// <param name="InputSize">Floats per token for <see cref="TokenKind.Vectors"/>; the number of valid ids (num_embeddings) for <see cref="TokenKind.Ids"/>.</param>
/// <param name="OutputSize">Floats per output step.</param>
/// <param name="Limits">The limits the server enforces on this connection.</param>
public sealed record WelcomeFrame(ushort Version, string Model, TokenKind TokenKind, int InputSize, int OutputSize, ProtocolLimits Limits) : Frame
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.Welcome;
}
