using Streaming.Client.Protocol;

namespace Streaming.Client;

/// <summary>
/// A request the server refused (an Error frame), or a connection that failed or closed. <see cref="Code"/> is the
/// Error frame's code: a <see cref="SessionErrorCode"/> below 100, a <see cref="ProtocolErrorCode"/> from 100,
/// and 0 when the connection ended without one.
/// </summary>
public sealed class StreamingClientException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="code">The Error frame's code, or 0 when there was no Error frame.</param>
    /// <param name="message">What was wrong.</param>
    /// <param name="session">The session concerned, or null.</param>
    /// <param name="connectionLost">Whether the connection is gone (every later request on it fails too).</param>
    /// <param name="innerException">The cause, when there is one.</param>
    public StreamingClientException(ushort code, string message, string? session = null, bool connectionLost = false, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        Session = session;
        ConnectionLost = connectionLost;
    }

    /// <summary>The Error frame's code; 0 when the connection ended without one.</summary>
    public ushort Code { get; }

    /// <summary>The code as a session error (InvalidInput, UnknownSession, ...), or null when it is not one.</summary>
    public SessionErrorCode? SessionCode => Code is > 0 and < 100 ? (SessionErrorCode)Code : null;

    /// <summary>The code as a protocol error (TooManySessions, FrameTooLarge, ...), or null when it is not one.</summary>
    public ProtocolErrorCode? ProtocolCode => Code >= 100 ? (ProtocolErrorCode)Code : null;

    /// <summary>The session the refused request named, or null for a connection-level error.</summary>
    public string? Session { get; }

    /// <summary>
    /// For <see cref="SessionErrorCode.DuplicateToken"/> and <see cref="SessionErrorCode.PositionAhead"/>: the session's
    /// position, the index of the next token it accepts (resend from there after PositionAhead); null otherwise.
    /// </summary>
    public long? Position { get; init; }

    /// <summary>For <see cref="SessionErrorCode.DuplicateToken"/>: the token's original output, when the server still kept it; null otherwise.</summary>
    public ReadOnlyMemory<float>? Output { get; init; }

    /// <summary>Whether the connection is gone: the request may or may not have been applied, and every later request on this client fails.</summary>
    public bool ConnectionLost { get; }

    /// <summary>
    /// How many times the client sent the request again after the server refused it StoreFailed, before this error; 0 when
    /// it was sent once (see <see cref="StreamingClientOptions.StoreFailedRetry"/>).
    /// </summary>
    public int Retries { get; init; }

    /// <summary>The exception for a refused request.</summary>
    internal static StreamingClientException From(ErrorFrame error, bool connectionLost = false, int retries = 0) =>
        new(error.Code, error.Message, error.Session.Length == 0 ? null : error.Session, connectionLost) { Position = error.Position, Output = error.Output, Retries = retries };
}
