using System.Collections.Concurrent;
using System.Net;
using Akka;
using Akka.Actor;
using Akka.IO;
using Tcp = Akka.Streams.Dsl.Tcp;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Util;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Host.Protocol;

namespace Streaming.Host.Server;

/// <summary>
/// The TCP front of an <see cref="ISessionService"/> (a <see cref="RecurrentEngine"/>, or a cluster's sharded
/// sessions): accepts connections on <see cref="ServerOptions.Host"/> and
/// <see cref="ServerOptions.Port"/> and speaks the protocol of docs/protocol.md on each, with Akka.Streams TCP and
/// length-field framing (<see cref="FrameCutter"/>). One connection carries many sessions; a violation by one client closes at most its own
/// connection. Sessions belong to the service, not to a connection: when a connection drops, the sessions it
/// opened stay open, so a client may reconnect and go on with them (or close them).
/// </summary>
public sealed class StreamingServer : IAsyncDisposable
{
    private readonly ServerOptions _options;
    private readonly Tcp.ServerBinding _binding;
    private readonly ServerCounters _counters;
    private readonly CancellationTokenSource _draining;
    private readonly ConcurrentDictionary<long, Task> _connections;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private Task? _stopping;

    private StreamingServer(ServerOptions options, Tcp.ServerBinding binding, ServerCounters counters, CancellationTokenSource draining, ConcurrentDictionary<long, Task> connections, ILogger logger)
    {
        _options = options;
        _binding = binding;
        _counters = counters;
        _draining = draining;
        _connections = connections;
        _logger = logger;
    }

    /// <summary>The address and port the server listens on (the real port when <see cref="ServerOptions.Port"/> was 0).</summary>
    public IPEndPoint Endpoint => (IPEndPoint)_binding.LocalAddress;

    /// <summary>The limits announced to, and enforced on, every connection.</summary>
    public ProtocolLimits Limits => _options.Limits;

    /// <summary>A reading of the server's counters.</summary>
    public ServerStatistics Statistics => _counters.Read();

    /// <summary>Binds the listening socket and starts accepting connections for <paramref name="sessions"/>.</summary>
    /// <param name="system">The actor system whose materializer runs the connections; the server does not terminate it.</param>
    /// <param name="sessions">The service that serves every session (a <see cref="RecurrentEngine"/> or a cluster's sharded sessions); the server does not dispose it.</param>
    /// <param name="options">Where to listen and the limits; null means <see cref="ServerOptions.Default"/>.</param>
    /// <param name="logger">Where connection events are logged (default: nowhere).</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The address cannot be bound (in use, not local, not permitted); the message names it.</exception>
    public static async Task<StreamingServer> StartAsync(ActorSystem system, ISessionService sessions, ServerOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(sessions);
        options ??= ServerOptions.Default;
        options.Validate();
        logger ??= NullLogger.Instance;
        var codec = new FrameCodec(options.Limits);
        var counters = new ServerCounters();
        var draining = new CancellationTokenSource();
        var connections = new ConcurrentDictionary<long, Task>();
        var dispatcher = new RequestDispatcher(sessions, codec, logger);
        var materializer = system.Materializer(namePrefix: "tcp-server");
        long nextConnection = 0;

        Tcp.ServerBinding binding;
        try
        {
            binding = await system.TcpStream()
                .Bind(options.Host, options.Port, backlog: 256, halfClose: true)
                .To(Sink.ForEach<Tcp.IncomingConnection>(connection =>
                {
                    var id = Interlocked.Increment(ref nextConnection);
                    var context = new ConnectionContext(sessions, dispatcher, codec, options, counters, logger, connection.RemoteAddress, draining.Token);
                    // Watch the socket's side: it ends only once the last reply is flushed and the socket closed.
                    var done = connection.Flow.WatchTermination((_, closed) => (Task)closed)
                        .JoinMaterialized(ConnectionFlow(context), Keep.Left)
                        .Run(materializer);
                    connections[id] = done;
                    done.ContinueWith(_ => connections.TryRemove(id, out Task? _), TaskScheduler.Default);
                }))
                .Run(materializer)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException and not ArgumentException)
        {
            draining.Dispose();
            throw new InvalidOperationException($"the server cannot listen on {options.Host}:{options.Port}: {e.Message}", e);
        }

        logger.Listening(binding.LocalAddress, sessions.Model);
        return new StreamingServer(options, binding, counters, draining, connections, logger);
    }

    /// <summary>
    /// Stops gracefully: stops reading every connection, answers every request already read, sends each client an
    /// Error EngineStopped (8) with an empty session and closes; a connection accepted meanwhile gets the same Error
    /// at once; then the listening socket is closed. The service's sessions
    /// are left open (dispose the engine afterwards to snapshot them). Calling it again waits for the same stop.
    /// </summary>
    /// <param name="timeout">How long to wait for connections to finish before closing them anyway (default 30 s).</param>
    public Task StopAsync(TimeSpan? timeout = null)
    {
        lock (_gate)
        {
            return _stopping ??= StopCoreAsync(timeout ?? TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>Same as <see cref="StopAsync"/> with the default timeout.</summary>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private async Task StopCoreAsync(TimeSpan timeout)
    {
        // Drain before unbinding: Akka's listener owns its connections' actors, and unbinding stops them with a
        // reset that would discard replies not yet read. Connections accepted meanwhile are told to go away.
        _logger.Draining(_binding.LocalAddress, _connections.Count);
        await _draining.CancelAsync().ConfigureAwait(false);
        var all = Task.WhenAll(_connections.Values);
        if (await Task.WhenAny(all, Task.Delay(timeout)).ConfigureAwait(false) != all)
        {
            _logger.DrainTimedOut(_connections.Count, timeout);
        }

        await _binding.Unbind().ConfigureAwait(false);
        _draining.Dispose();
    }

    private static Flow<ByteString, ByteString, NotUsed> ConnectionFlow(ConnectionContext context) =>
        Flow.Create<ByteString>()
            .Via(new FrameCutter(context.Codec))
            .Via(new ConnectionStage(context));
}
