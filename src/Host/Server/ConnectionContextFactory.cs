using System.Net;
using Microsoft.Extensions.Logging;
using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>What every connection of one server shares; <see cref="For"/> adds what is its own.</summary>
internal sealed record ConnectionContextFactory(
    ISessionService Sessions,
    RequestDispatcher Dispatcher,
    FrameCodec Codec,
    ServerOptions Options,
    ServerCounters Counters,
    PendingBytes Bytes,
    ILogger Logger,
    ServerProbes? Probes)
{
    public ConnectionContext For(EndPoint remote, CancellationToken draining) =>
        new(Sessions, Dispatcher, Codec, Options, Counters, Bytes, Logger, remote, draining, Probes);
}
