using Streaming.Sessions;

namespace Streaming.Host.Protocol;

/// <summary>
/// A refused frame, or a connection-level violation. The code is an <see cref="EngineErrorCode"/>
/// (below 100) or a <see cref="ProtocolErrorCode"/> (100 and up); other codes may appear in later
/// versions and must be treated as errors all the same.
/// </summary>
/// <param name="Session">The session of the refused frame; empty for a connection-level error or when the id could not be read.</param>
/// <param name="Sequence">The refused frame's sequence number; 0 when it could not be read.</param>
/// <param name="Code">The error code.</param>
/// <param name="Message">What was wrong, expected and found. The codec cuts a longer message at a character boundary to fit 65535 bytes and the frame size.</param>
public sealed record ErrorFrame(string Session, ulong Sequence, ushort Code, string Message) : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.Error;

    /// <summary>The code as an engine error, or null when it is not one.</summary>
    public EngineErrorCode? EngineCode => Code is > 0 and < 100 ? (EngineErrorCode)Code : null;

    /// <summary>The code as a protocol error, or null when it is not one.</summary>
    public ProtocolErrorCode? ProtocolCode => Code >= 100 ? (ProtocolErrorCode)Code : null;

    /// <summary>
    /// Whether this is the server's last frame on the connection: a connection-level Error (empty session, sequence 0)
    /// for a framing or handshake violation, an idle timeout, or EngineStopped when the server shuts down. A client
    /// that gets one should close its side.
    /// </summary>
    public bool EndsConnection => Session.Length == 0 && Sequence == 0 && Code is (ushort)EngineErrorCode.EngineStopped
        or (>= (ushort)ProtocolErrorCode.FrameTooLarge and <= (ushort)ProtocolErrorCode.InvalidSessionId)
        or (ushort)ProtocolErrorCode.IdleTimeout;

    /// <summary>The Error frame that reports <paramref name="error"/>, addressed to its session and sequence when known.</summary>
    public static ErrorFrame From(ProtocolException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return new ErrorFrame(error.Session ?? "", error.Sequence ?? 0, (ushort)error.Code, error.Message);
    }

    /// <summary>The Error frame that reports the engine's refusal of the frame <paramref name="sequence"/> of <paramref name="session"/>.</summary>
    public static ErrorFrame From(string session, ulong sequence, EngineException error)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(error);
        return new ErrorFrame(session, sequence, (ushort)error.Code, error.Message);
    }
}
