
namespace Streaming.Client.Protocol;

/// <summary>
/// Error codes of the TCP protocol itself. They share the u16 code field of an Error frame with
/// <see cref="SessionErrorCode"/> (1 to 99); protocol codes start at 100. The numbers are stable.
/// </summary>
public enum ProtocolErrorCode
{
    /// <summary>A frame's length prefix declares more than the maximum frame size. Closes the connection.</summary>
    FrameTooLarge = 100,

    /// <summary>The bytes end inside a frame: fewer bytes than its length prefix declares. Closes the connection.</summary>
    TruncatedFrame = 101,

    /// <summary>A frame's type byte is not one of <see cref="FrameType"/>. Closes the connection.</summary>
    UnknownFrameType = 102,

    /// <summary>
    /// A frame's body does not follow its layout: a count that disagrees with the bytes that remain,
    /// an unknown token kind, invalid UTF-8, trailing bytes. Closes the connection only when the
    /// frame has no sequence number to answer (unreadable, or a Hello, Ping, Pong or StatusRequest).
    /// </summary>
    MalformedFrame = 103,

    /// <summary>The first frame is not a Hello or cannot be read as one (any violation before the Welcome). Closes the connection.</summary>
    BadHandshake = 104,

    /// <summary>The Hello asks for a protocol version the server does not speak. Closes the connection.</summary>
    UnsupportedVersion = 105,

    /// <summary>A session id is empty, longer than 128 UTF-8 bytes, or not valid UTF-8.</summary>
    InvalidSessionId = 106,

    /// <summary>An open or restore would exceed the sessions allowed on one connection.</summary>
    TooManySessions = 107,

    /// <summary>A token or replay would exceed the tokens allowed in flight for one session.</summary>
    TooManyTokensInFlight = 108,

    /// <summary>A well-formed frame the receiver never accepts in that direction or at that point (a second Hello, an Output sent to the server).</summary>
    UnexpectedFrame = 109,

    /// <summary>The connection sent nothing for longer than the idle timeout. Closes the connection.</summary>
    IdleTimeout = 110,

    /// <summary>
    /// The server failed to process a well-formed frame for a reason that is not the client's (a bug or a
    /// failing resource); the message says what failed. The connection goes on.
    /// </summary>
    InternalError = 111,

    /// <summary>
    /// The server holds as many connections as it allows (a limit derived from its descriptor limit): this one is
    /// refused with this Error, sent at once with an empty session and sequence 0, and closed. Retry later.
    /// </summary>
    TooManyConnections = 112,
}
