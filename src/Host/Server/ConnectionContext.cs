using System.Net;
using Microsoft.Extensions.Logging;
using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>What one connection's stage needs from its server.</summary>
internal sealed record ConnectionContext(
    ISessionService Sessions,
    RequestDispatcher Dispatcher,
    FrameCodec Codec,
    ServerOptions Options,
    ServerCounters Counters,
    PendingBytes Bytes,
    ILogger Logger,
    EndPoint Remote,
    CancellationToken Draining,
    ServerProbes? Probes = null);
