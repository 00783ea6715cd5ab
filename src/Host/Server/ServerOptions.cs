using Streaming.Client.Protocol;

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

    /// <summary>
    /// The most bytes of replies one connection may hold unwritten (default 16 MiB): replies the engine has answered
    /// (outputs, snapshots, every ReplayOutputs frame of a replay) until they are written to the socket. At this bound the
    /// server stops reading the connection, as for <see cref="MaxPendingPerConnection"/>; a single reply larger than the
    /// bound is still written (its request was read before it could be known), so one connection holds at most the bound
    /// plus one reply.
    /// </summary>
    public int MaxPendingBytesPerConnection { get; init; } = 16 << 20;

    /// <summary>
    /// The most connections the server holds at once; null (the default) derives it from the process's descriptor
    /// limit (<see cref="DerivedMaxConnections"/>). A value above what the descriptor limit allows is lowered to that
    /// (<see cref="EffectiveMaxConnections"/>, with a warning at start): a process that runs out of descriptors cannot
    /// count on its runtime either (threads, assemblies and the garbage collector open files too, and the runtime ends
    /// the process when they fail). A connection over it is accepted only to be refused: it gets an Error
    /// TooManyConnections (112) with an empty session and is closed, before any Welcome.
    /// </summary>
    public int? MaxConnections { get; init; }

    /// <summary>
    /// How long a closing connection waits, once its last frame is written (or while that write makes no progress),
    /// for the client to close its side before the server closes the socket anyway (default 2 s).
    /// </summary>
    public TimeSpan CloseDeadline { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The connection limit for a process whose soft descriptor limit is <paramref name="descriptors"/> (null: unknown or
    /// unlimited, which gives 16,384) with <paramref name="open"/> descriptors open already (the runtime holds one or two
    /// per loaded assembly, about 200 for <c>serve</c>): what is left, less a reserve of an eighth of the limit, at least
    /// 64, for assemblies loaded later, the store, logs, metrics and refusals in progress; at least 1.
    /// </summary>
    public static int DerivedMaxConnections(long? descriptors, int open) => descriptors is { } limit
        ? (int)Math.Clamp(limit - open - Math.Max(64, limit / 8), 1, int.MaxValue)
        : 16_384;

    /// <summary>
    /// The connection limit in force: <see cref="MaxConnections"/> or, when that is null or more than this process's
    /// descriptors allow now, <see cref="DerivedMaxConnections"/> (<see cref="ConnectionLimit"/>).
    /// </summary>
    public int EffectiveMaxConnections => ConnectionLimit(MaxConnections, DescriptorLimit.Soft(), DescriptorLimit.Open() ?? 0);

    /// <summary>
    /// The connection limit for <paramref name="configured"/> (null: none configured) in a process whose soft descriptor
    /// limit is <paramref name="descriptors"/> (null: unknown or unlimited) with <paramref name="open"/> descriptors open:
    /// the configured limit, never more than <see cref="DerivedMaxConnections"/> where the descriptor limit is known.
    /// </summary>
    public static int ConnectionLimit(int? configured, long? descriptors, int open) => descriptors is null
        ? configured ?? DerivedMaxConnections(null, open)
        : Math.Min(configured ?? int.MaxValue, DerivedMaxConnections(descriptors, open));

    /// <summary>Receives every request forwarded to the engine with its answer, to record chosen sessions (default none: nothing is recorded).</summary>
    public IRequestRecorder? Recorder { get; init; }

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

        if (MaxConnections is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxConnections), MaxConnections,
                $"server options: MaxConnections is {MaxConnections}; expected 1 or more, or null to derive it from the descriptor limit.");
        }

        if (CloseDeadline <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(CloseDeadline), CloseDeadline,
                $"server options: CloseDeadline is {CloseDeadline}; expected more than zero.");
        }

        if (MaxPendingBytesPerConnection < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPendingBytesPerConnection), MaxPendingBytesPerConnection,
                $"server options: MaxPendingBytesPerConnection is {MaxPendingBytesPerConnection}; expected 1 or more.");
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
