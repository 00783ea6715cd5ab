
namespace Streaming.Client.Protocol;

/// <summary>
/// A refused frame, or a connection-level violation. The code is an <see cref="SessionErrorCode"/>
/// (below 100) or a <see cref="ProtocolErrorCode"/> (100 and up); other codes may appear in later
/// versions and must be treated as errors all the same.
/// </summary>
/// <param name="Session">The session of the refused frame; empty for a connection-level error or when the id could not be read.</param>
/// <param name="Sequence">The refused frame's sequence number; 0 when it could not be read.</param>
/// <param name="Code">The error code.</param>
/// <param name="Message">What was wrong, expected and found. The codec cuts a longer message at a character boundary to fit 65535 bytes and the frame size.</param>
/// <remarks>
/// Errors DuplicateToken (10) and PositionAhead (11) carry the session's <see cref="Position"/>; no other code does.
/// </remarks>
public sealed record ErrorFrame(string Session, ulong Sequence, ushort Code, string Message) : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.Error;

    /// <summary>
    /// For <see cref="SessionErrorCode.DuplicateToken"/> and <see cref="SessionErrorCode.PositionAhead"/> (and only for
    /// them, where it is required): the session's position, the index of the next token it accepts; resend from there
    /// after PositionAhead. Null for every other code. Never negative.
    /// </summary>
    public long? Position { get; init; }

    /// <summary>The code as an engine error, or null when it is not one.</summary>
    public SessionErrorCode? SessionCode => Code is > 0 and < 100 ? (SessionErrorCode)Code : null;

    /// <summary>The code as a protocol error, or null when it is not one.</summary>
    public ProtocolErrorCode? ProtocolCode => Code >= 100 ? (ProtocolErrorCode)Code : null;

    /// <summary>
    /// Whether this is the server's last frame on the connection: a connection-level Error (empty session, sequence 0)
    /// for a framing or handshake violation, an idle timeout, a refused connection (TooManyConnections), or EngineStopped
    /// when the server shuts down. A client
    /// that gets one should close its side.
    /// </summary>
    public bool EndsConnection => Session.Length == 0 && Sequence == 0 && Code is (ushort)SessionErrorCode.EngineStopped
        or (>= (ushort)ProtocolErrorCode.FrameTooLarge and <= (ushort)ProtocolErrorCode.InvalidSessionId)
        or (ushort)ProtocolErrorCode.IdleTimeout or (ushort)ProtocolErrorCode.TooManyConnections;

    /// <summary>The Error frame that reports <paramref name="error"/>, addressed to its session and sequence when known.</summary>
    public static ErrorFrame From(ProtocolException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new ErrorFrame(error.Session ?? "", error.Sequence ?? 0, (ushort)error.Code, error.Message);
    }

    /// <summary>Whether an Error frame of <paramref name="code"/> carries a position: DuplicateToken (10) and PositionAhead (11).</summary>
    public static bool CarriesPosition(ushort code) => code is (ushort)SessionErrorCode.DuplicateToken or (ushort)SessionErrorCode.PositionAhead;
}
