namespace Streaming.Client.Protocol;

/// <summary>
/// A violation of the TCP protocol: a frame that cannot be decoded (or encoded), or one the server
/// refuses for protocol reasons. The message names what was wrong, what was expected and what was found.
/// </summary>
public sealed class ProtocolException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">What kind of violation it is.</param>
    /// <param name="message">What was wrong, expected and found.</param>
    /// <param name="session">The session the frame named, when it could be read.</param>
    /// <param name="sequence">The frame's sequence number, when it could be read.</param>
    public ProtocolException(ProtocolErrorCode code, string message, string? session = null, ulong? sequence = null)
        : base(message)
    {
        Code = code;
        Session = session;
        Sequence = sequence;
    }

    /// <summary>What kind of violation it is.</summary>
    public ProtocolErrorCode Code { get; }

    /// <summary>The session the offending frame named, or null when it could not be read (or there was none).</summary>
    public string? Session { get; }

    /// <summary>The offending frame's sequence number, or null when it could not be read (or there was none).</summary>
    public ulong? Sequence { get; }

    /// <summary>
    /// Whether the connection must be closed after the Error frame: framing and handshake violations
    /// always; a malformed frame or invalid session id only when it has no sequence number to answer (it
    /// could not be read, or the frame type has none: Hello, Ping, Pong, StatusRequest), since the client
    /// could not match the error to a request; the rest never.
    /// </summary>
    public bool ClosesConnection => Code switch
    {
        ProtocolErrorCode.FrameTooLarge or ProtocolErrorCode.TruncatedFrame or ProtocolErrorCode.UnknownFrameType
            or ProtocolErrorCode.BadHandshake or ProtocolErrorCode.UnsupportedVersion or ProtocolErrorCode.IdleTimeout => true,
        ProtocolErrorCode.MalformedFrame or ProtocolErrorCode.InvalidSessionId => Sequence is null,
        _ => false,
    };
}
