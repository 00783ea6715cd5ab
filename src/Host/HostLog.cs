using System.Net;
using Microsoft.Extensions.Logging;
using Streaming.Client.Protocol;

namespace Streaming.Host;

/// <summary>Every structured log message of the host, in one place (source-generated, so a disabled level costs nothing).</summary>
internal static partial class HostLog
{
    [LoggerMessage(1, LogLevel.Information, "Listening on {Endpoint} for model {Model}")]
    public static partial void Listening(this ILogger logger, EndPoint endpoint, ModelIdentity model);

    [LoggerMessage(2, LogLevel.Information, "Draining {Connections} connection(s) on {Endpoint}: no more frames are read and new connections are turned away")]
    public static partial void Draining(this ILogger logger, EndPoint endpoint, int connections);

    [LoggerMessage(3, LogLevel.Warning, "{Connections} connection(s) did not finish within {Timeout}; they are abandoned")]
    public static partial void DrainTimedOut(this ILogger logger, int connections, TimeSpan timeout);

    [LoggerMessage(4, LogLevel.Information, "Connection {Remote}: closing after {Code}: {Reason}")]
    public static partial void ConnectionViolation(this ILogger logger, EndPoint remote, ProtocolErrorCode code, string reason);

    [LoggerMessage(5, LogLevel.Information, "Connection {Remote}: the socket failed: {Reason}")]
    public static partial void ConnectionFailed(this ILogger logger, EndPoint remote, string reason);

    [LoggerMessage(6, LogLevel.Error, "Session {Session}: the {FrameType} frame (sequence {Sequence}) failed inside the server")]
    public static partial void RequestFailed(this ILogger logger, Exception error, string session, FrameType frameType, ulong sequence);

    [LoggerMessage(7, LogLevel.Debug, "Connection {Remote}: opened")]
    public static partial void ConnectionOpened(this ILogger logger, EndPoint remote);

    [LoggerMessage(8, LogLevel.Debug, "Connection {Remote}: closed")]
    public static partial void ConnectionClosed(this ILogger logger, EndPoint remote);

    [LoggerMessage(9, LogLevel.Warning, "Accepting on {Endpoint} failed ({Error}: {Reason}); retrying in {Delay} and doubling the wait while it fails")]
    public static partial void AcceptFailing(this ILogger logger, EndPoint endpoint, System.Net.Sockets.SocketError error, string reason, TimeSpan delay);

    [LoggerMessage(10, LogLevel.Warning, "Accepting on {Endpoint} again after {Failures} failed accept(s)")]
    public static partial void AcceptRecovered(this ILogger logger, EndPoint endpoint, long failures);

    [LoggerMessage(12, LogLevel.Information, "Holding at most {Limit} connection(s) at once ({Source})")]
    public static partial void ConnectionLimit(this ILogger logger, int limit, string source);

    [LoggerMessage(13, LogLevel.Warning, "Holding at most {Limit} connection(s) at once: MaxConnections {Configured} is more than the descriptor limit {Descriptors} allows with {Open} open (the rest is kept for the runtime, the store and refusals); raise the limit (ulimit -n, systemd's LimitNOFILE) to hold more")]
    public static partial void ConnectionLimitLowered(this ILogger logger, int configured, string descriptors, string open, int limit);

    [LoggerMessage(11, LogLevel.Warning, "Connection {Remote}: refused, {Open} connection(s) open of at most {Limit} (the first refusal since the count was last below the limit; later ones are counted, not logged)")]
    public static partial void ConnectionRefused(this ILogger logger, EndPoint remote, int open, int limit);
}
