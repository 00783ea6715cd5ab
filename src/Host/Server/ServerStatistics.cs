namespace Streaming.Host.Server;

/// <summary>An immutable reading of a <see cref="StreamingServer"/>'s counters.</summary>
/// <param name="ConnectionsAccepted">Connections accepted since the server started.</param>
/// <param name="ConnectionsOpen">Connections open now.</param>
/// <param name="FramesReceived">Frames read from clients, valid or not.</param>
/// <param name="FramesSent">Frames written to clients, Error frames included.</param>
/// <param name="Pending">Requests in flight plus reply frames waiting to be written, over all connections, now.</param>
/// <param name="PeakPendingPerConnection">The most requests in flight plus replies waiting that one connection ever held; never above <see cref="ServerOptions.MaxPendingPerConnection"/>.</param>
/// <param name="ErrorsByCode">Error frames sent, by code (engine codes below 100, protocol codes from 100).</param>
public sealed record ServerStatistics(
    long ConnectionsAccepted,
    int ConnectionsOpen,
    long FramesReceived,
    long FramesSent,
    long Pending,
    int PeakPendingPerConnection,
    IReadOnlyDictionary<ushort, long> ErrorsByCode)
{
    /// <summary>
    /// Bytes that requests in flight and replies waiting to be written hold now, over all connections: a request is charged
    /// its own bytes plus the largest reply it can get until it is answered, then its reply's encoded size until written.
    /// </summary>
    public long PendingBytes { get; init; }

    /// <summary>The most pending bytes one connection ever held; at most <see cref="ServerOptions.MaxPendingBytesPerConnection"/> plus one request's charge.</summary>
    public long PeakPendingBytesPerConnection { get; init; }

    /// <summary>Connections refused because the server held <see cref="StreamingServer.MaxConnections"/> already (each got an Error TooManyConnections, 112).</summary>
    public long ConnectionsRefused { get; init; }

    /// <summary>Accepts the operating system failed (out of descriptors, buffers or memory); the server waits and retries.</summary>
    public long AcceptFailures { get; init; }

    /// <summary>
    /// Times a connection stopped reading because it held <see cref="ServerOptions.MaxPendingPerConnection"/> requests or
    /// <see cref="ServerOptions.MaxPendingBytesPerConnection"/> bytes: backpressure on a client that sends faster than it reads.
    /// </summary>
    public long ReadPauses { get; init; }
}
