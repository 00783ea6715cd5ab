using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Akka;
using Akka.Actor;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>
/// The TCP front of an <see cref="ISessionService"/> (a <see cref="RecurrentEngine"/>, or a cluster's sharded
/// sessions): accepts connections on <see cref="ServerOptions.Host"/> and <see cref="ServerOptions.Port"/> and
/// speaks the protocol of docs/protocol.md on each, as an Akka.Streams graph per connection (<see cref="SocketStage"/>,
/// <see cref="FrameCutter"/>, <see cref="ConnectionStage"/>). One connection carries many sessions; a violation by one
/// client closes at most its own connection. Sessions belong to the service, not to a connection: when a connection
/// drops, the sessions it opened stay open, so a client may reconnect and go on with them (or close them). It holds at
/// most <see cref="ServerOptions.EffectiveMaxConnections"/> connections, refuses the ones over it with an Error, and
/// backs off when the process runs out of descriptors, so that neither kills it.
/// </summary>
public sealed class StreamingServer : IAsyncDisposable
{
    // At most this many refused connections wait for their client to close; more are closed right after the Error.
    private const int RefusalsInProgress = 16;
    private readonly ServerOptions _options;
    private readonly Socket _listener;
    private readonly ConnectionContextFactory _contexts;
    private readonly IMaterializer _materializer;
    private readonly ServerCounters _counters;
    private readonly CancellationTokenSource _draining = new();
    private readonly CancellationTokenSource _stopAccepting = new();
    private readonly ConcurrentDictionary<long, Task> _connections = new();
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly int _maxConnections;
    private readonly byte[] _refusal;
    private Task _accepting = Task.CompletedTask;
    private Task? _stopping;
    private long _nextConnection;
    private int _held;
    private int _refusing;
    private bool _atLimit;

    private StreamingServer(ServerOptions options, int maxConnections, Socket listener, ConnectionContextFactory contexts, IMaterializer materializer, ServerCounters counters, ILogger logger)
    {
        _options = options;
        _listener = listener;
        _contexts = contexts;
        _materializer = materializer;
        _counters = counters;
        _logger = logger;
        Endpoint = (IPEndPoint)listener.LocalEndPoint!;
        _maxConnections = maxConnections;
        _refusal = contexts.Codec.Encode(new ErrorFrame("", 0, (ushort)ProtocolErrorCode.TooManyConnections,
            $"the server holds {_maxConnections} connection(s), as many as it allows; this one is refused and closed. Retry later, or share a connection: one carries many sessions."));
    }

    /// <summary>The address and port the server listens on (the real port when <see cref="ServerOptions.Port"/> was 0).</summary>
    public IPEndPoint Endpoint { get; }

    /// <summary>The limits announced to, and enforced on, every connection.</summary>
    public ProtocolLimits Limits => _options.Limits;

    /// <summary>The most connections the server holds at once; those over it are refused (<see cref="ServerOptions.MaxConnections"/>).</summary>
    public int MaxConnections => _maxConnections;

    /// <summary>A reading of the server's counters.</summary>
    public ServerStatistics Statistics => _counters.Read();

    /// <summary>Binds the listening socket and starts accepting connections for <paramref name="sessions"/>.</summary>
    /// <param name="system">The actor system whose materializer runs the connections; the server does not terminate it.</param>
    /// <param name="sessions">The service that serves every session (a <see cref="RecurrentEngine"/> or a cluster's sharded sessions); the server does not dispose it.</param>
    /// <param name="options">Where to listen and the limits; null means <see cref="ServerOptions.Default"/>.</param>
    /// <param name="logger">Where connection events are logged (default: nowhere).</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The address cannot be bound (in use, not local, not permitted); the message names it.</exception>
    public static Task<StreamingServer> StartAsync(ActorSystem system, ISessionService sessions, ServerOptions? options = null, ILogger? logger = null) =>
        StartAsync(system, sessions, options, logger, probes: null);

    /// <summary>Same as the public start, with <paramref name="probes"/> for tests to observe the connections.</summary>
    internal static async Task<StreamingServer> StartAsync(ActorSystem system, ISessionService sessions, ServerOptions? options, ILogger? logger, ServerProbes? probes)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(sessions);
        options ??= ServerOptions.Default;
        options.Validate();
        logger ??= NullLogger.Instance;
        var listener = await ListenAsync(options).ConfigureAwait(false);
        var codec = new FrameCodec(options.Limits);
        var counters = new ServerCounters();
        var contexts = new ConnectionContextFactory(sessions, new RequestDispatcher(sessions, codec, logger), codec, options, counters, new PendingBytes(codec, sessions.Spec), logger, probes);
        // The descriptors are read once: the limit and its log line say the same.
        var descriptorLimit = DescriptorLimit.Soft();
        var openDescriptors = DescriptorLimit.Open();
        var maxConnections = ServerOptions.ConnectionLimit(options.MaxConnections, descriptorLimit, openDescriptors ?? 0);
        var server = new StreamingServer(options, maxConnections, listener, contexts, system.Materializer(namePrefix: "tcp-server"), counters, logger);
        server._accepting = server.AcceptAsync();
        logger.Listening(server.Endpoint, sessions.Model);
        var descriptors = descriptorLimit?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(unknown)";
        var open = openDescriptors?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(unknown)";
        if (options.MaxConnections is not { } configured)
        {
            logger.ConnectionLimit(server.MaxConnections, $"derived from the descriptor limit {descriptors} with {open} open");
        }
        else if (configured > server.MaxConnections)
        {
            logger.ConnectionLimitLowered(configured, descriptors, open, server.MaxConnections);
        }
        else
        {
            logger.ConnectionLimit(server.MaxConnections, "MaxConnections");
        }

        return server;
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

    private static async Task<Socket> ListenAsync(ServerOptions options)
    {
        Socket? listener = null;
        try
        {
            var address = IPAddress.TryParse(options.Host, out var parsed)
                ? parsed
                : (await System.Net.Dns.GetHostAddressesAsync(options.Host).ConfigureAwait(false)).OrderBy(a => a.AddressFamily != AddressFamily.InterNetwork).First();
            listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(address, options.Port));
            listener.Listen(256);
            return listener;
        }
        catch (Exception e) when (e is SocketException or InvalidOperationException or ArgumentException)
        {
            listener?.Dispose();
            throw new InvalidOperationException($"the server cannot listen on {options.Host}:{options.Port}: {e.Message}", e);
        }
    }

    private async Task StopCoreAsync(TimeSpan timeout)
    {
        // Drain before closing the listener: connections accepted meanwhile are told to go away, with an Error, rather
        // than left in the backlog to be reset.
        _logger.Draining(Endpoint, _connections.Count);
        await _draining.CancelAsync().ConfigureAwait(false);
        var all = Task.WhenAll(_connections.Values);
        if (await Task.WhenAny(all, Task.Delay(timeout)).ConfigureAwait(false) != all)
        {
            _logger.DrainTimedOut(_connections.Count, timeout);
        }

        await _stopAccepting.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accepting.ConfigureAwait(false);
        _draining.Dispose();
        _stopAccepting.Dispose();
    }

    private Task AcceptAsync() =>
        new AcceptLoop(_listener.AcceptAsync, Admit, _counters.AcceptFailed, Task.Delay, Endpoint, _logger).RunAsync(_stopAccepting.Token);

    private void Admit(Socket socket)
    {
        var remote = RemoteOf(socket);
        if (Interlocked.Increment(ref _held) > _maxConnections)
        {
            Interlocked.Decrement(ref _held);
            Refuse(socket, remote);
            return;
        }

        _atLimit = false;
        socket.NoDelay = true;
        var id = Interlocked.Increment(ref _nextConnection);
        var context = _contexts.For(remote, _draining.Token);
        Task closed;
        try
        {
            closed = Flow.FromGraph(new SocketStage(socket, _options.CloseDeadline))
                .JoinMaterialized(ConnectionFlow(context), Keep.Left)
                .Run(_materializer);
        }
        catch (Exception e) when (e is Akka.Pattern.IllegalStateException or AbruptTerminationException)
        {
            // The actor system is shutting down under the server: nothing can serve this connection.
            socket.Dispose();
            Interlocked.Decrement(ref _held);
            return;
        }

        _connections[id] = closed;
        closed.ContinueWith(
            _ =>
            {
                _connections.TryRemove(id, out Task? _);
                Interlocked.Decrement(ref _held);
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>
    /// A connection over the limit: the Error TooManyConnections at once, the FIN, then a close as soon as the client
    /// closes or at the close deadline; when too many refusals are in progress already, the socket is closed right
    /// after a best-effort write of the Error.
    /// </summary>
    private void Refuse(Socket socket, EndPoint remote)
    {
        _counters.ConnectionRefused();
        if (!_atLimit)
        {
            _atLimit = true;
            _logger.ConnectionRefused(remote, Volatile.Read(ref _held), _maxConnections);
        }

        if (Interlocked.Increment(ref _refusing) > RefusalsInProgress)
        {
            Interlocked.Decrement(ref _refusing);
            try
            {
                socket.Blocking = false;
                socket.Send(_refusal.AsSpan(), SocketFlags.None, out _);
            }
            finally
            {
                socket.Dispose();
            }

            return;
        }

        _ = RefuseAsync(socket);
    }

    private async Task RefuseAsync(Socket socket)
    {
        try
        {
            using var deadline = new CancellationTokenSource(_options.CloseDeadline);
            await socket.SendAsync(_refusal, SocketFlags.None, deadline.Token).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Send);
            var discard = new byte[512];
            while (await socket.ReceiveAsync(discard, SocketFlags.None, deadline.Token).ConfigureAwait(false) > 0)
            {
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client reset, or did not close within the deadline: the socket is closed all the same.
        }
        finally
        {
            socket.Dispose();
            Interlocked.Decrement(ref _refusing);
        }
    }

    private static EndPoint RemoteOf(Socket socket)
    {
        try
        {
            return socket.RemoteEndPoint ?? new IPEndPoint(IPAddress.None, 0);
        }
        catch (SocketException)
        {
            return new IPEndPoint(IPAddress.None, 0);
        }
    }

    private static Flow<ByteString, ByteString, NotUsed> ConnectionFlow(ConnectionContext context) =>
        Flow.Create<ByteString>()
            .Via(new FrameCutter(context.Codec))
            .Via(new ConnectionStage(context));
}
