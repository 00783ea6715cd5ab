using Streaming.Host.Protocol;

namespace Streaming.Host.Server;

/// <summary>Where a <see cref="StreamingServer"/> listens and the limits it enforces on each connection.</summary>
public sealed record ServerOptions
{
    /// <summary>The defaults: 127.0.0.1:7700, <see cref="ProtocolLimits.Default"/>, 4096 pending requests per connection.</summary>
    public static ServerOptions Default { get; } = new();

    /// <summary>The address to listen on (default <c>127.0.0.1</c>; <c>0.0.0.0</c> or <c>::</c> for every interface).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The TCP port (default 7700); 0 picks a free port, which <see cref="StreamingServer.Endpoint"/> then tells.</summary>
    public int Port { get; init; } = 7700;

    /// <summary>The protocol limits, announced to every client in its Welcome.</summary>
    public ProtocolLimits Limits { get; init; } = ProtocolLimits.Default;

    /// <summary>
    /// The most requests one connection may have in flight plus replies waiting to be written (default 4096).
    /// At this bound the server stops reading the connection until replies are written, so a client that
    /// sends without reading holds at most this many requests and replies in the server's memory. Unlike
    /// <see cref="ProtocolLimits.MaxTokensInFlightPerSession"/> it is never answered with an error: it is backpressure.
    /// </summary>
    public int MaxPendingPerConnection { get; init; } = 4096;

    /// <summary>Records chosen sessions' requests and replies into a recording file (default none: nothing is recorded).</summary>
    public Recording.TrafficRecorder? Recorder { get; init; }

    /// <summary>Test hook: called when a connection stops reading because it holds <see cref="MaxPendingPerConnection"/> items.</summary>
    internal Action? PendingLimitReached { get; init; }

    /// <summary>Test hook: called when a connection's stage has stopped (every request it read has been handed to the engine).</summary>
    internal Action? ConnectionStopped { get; init; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Host))
        {
            throw new ArgumentException("server options: Host is empty; expected an IP address or a host name.", nameof(Host));
        }

        if (Port is < 0 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(Port), Port, $"server options: Port is {Port}; expected 0 (any free port) to 65535.");
        }

        ArgumentNullException.ThrowIfNull(Limits, nameof(Limits));
        Limits.Validate();
        if (MaxPendingPerConnection < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPendingPerConnection), MaxPendingPerConnection,
                $"server options: MaxPendingPerConnection is {MaxPendingPerConnection}; expected 1 or more.");
        }
    }
}
