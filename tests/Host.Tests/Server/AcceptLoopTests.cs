using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Streaming.Host.Server;

namespace Host.Tests.Server;

/// <summary>
/// The accept loop when the operating system refuses to accept: it backs off from 10 ms doubling to 1 s, logs the first
/// refusal and the recovery (not each retry), counts every refusal, admits the next connection and starts over at 10 ms.
/// </summary>
public sealed class AcceptLoopTests
{
    private static readonly EndPoint Endpoint = new IPEndPoint(IPAddress.Loopback, 4711);

    [Fact]
    public async Task Refused_accepts_back_off_doubling_to_a_second_are_logged_once_and_the_next_connection_is_admitted()
    {
        using var pair = await SocketPair.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var log = new ListLogger();
        var waits = new List<TimeSpan>();
        var admitted = new List<Socket>();
        var failed = 0;
        var descriptors = new SocketException((int)SocketError.TooManyOpenSockets);
        var buffers = new SocketException((int)SocketError.NoBufferSpaceAvailable);
        var results = new Queue<Func<Socket>>();
        for (var i = 0; i < 9; i++)
        {
            results.Enqueue(() => throw descriptors);
        }

        results.Enqueue(() => pair.Server);
        for (var i = 0; i < 2; i++)
        {
            results.Enqueue(() => throw buffers);
        }

        results.Enqueue(() =>
        {
            stop.Cancel();
            throw new OperationCanceledException(stop.Token);
        });

        var loop = new AcceptLoop(
            _ => ValueTask.FromResult(results.Dequeue()()),
            admitted.Add,
            () => failed++,
            (wait, _) =>
            {
                waits.Add(wait);
                return Task.CompletedTask;
            },
            Endpoint,
            log);

        await loop.RunAsync(stop.Token);

        Assert.Equal([10, 20, 40, 80, 160, 320, 640, 1000, 1000, 10, 20], waits.Select(w => (int)w.TotalMilliseconds));
        Assert.Equal(11, failed);
        Assert.Same(pair.Server, Assert.Single(admitted));
        Assert.Equal(
        [
            $"Warning: Accepting on 127.0.0.1:4711 failed (TooManyOpenSockets: {descriptors.Message}); retrying in 00:00:00.0100000 and doubling the wait while it fails",
            "Warning: Accepting on 127.0.0.1:4711 again after 9 failed accept(s)",
            $"Warning: Accepting on 127.0.0.1:4711 failed (NoBufferSpaceAvailable: {buffers.Message}); retrying in 00:00:00.0100000 and doubling the wait while it fails",
        ], log.Lines);
    }

    [Fact]
    public async Task A_client_that_gave_up_before_it_was_accepted_is_skipped_without_a_wait_or_a_log()
    {
        using var pair = await SocketPair.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var log = new ListLogger();
        var admitted = new List<Socket>();
        var results = new Queue<Func<Socket>>([
            () => throw new SocketException((int)SocketError.ConnectionAborted),
            () => throw new SocketException((int)SocketError.ConnectionReset),
            () => pair.Server,
            () => throw new ObjectDisposedException("listener"),
        ]);
        var loop = new AcceptLoop(
            _ => ValueTask.FromResult(results.Dequeue()()),
            admitted.Add,
            () => Assert.Fail("a client that gave up is not a failed accept"),
            (_, _) => throw new InvalidOperationException("no wait expected"),
            Endpoint,
            log);

        await loop.RunAsync(stop.Token);

        Assert.Same(pair.Server, Assert.Single(admitted));
        Assert.Empty(results);
        Assert.Empty(log.Lines);
    }

    [Fact]
    public async Task Stopping_during_a_back_off_ends_the_loop()
    {
        using var stop = new CancellationTokenSource();
        var accepts = 0;
        var loop = new AcceptLoop(
            _ =>
            {
                accepts++;
                throw new SocketException((int)SocketError.TooManyOpenSockets);
            },
            _ => Assert.Fail("nothing to admit"),
            () => { },
            async (wait, token) =>
            {
                await stop.CancelAsync();
                await Task.Delay(wait, token);
            },
            Endpoint,
            new ListLogger());

        await loop.RunAsync(stop.Token);

        Assert.Equal(1, accepts);
    }

    private sealed class SocketPair : IDisposable
    {
        private SocketPair(Socket client, Socket server)
        {
            Client = client;
            Server = server;
        }

        public Socket Client { get; }

        public Socket Server { get; }

        public static async Task<SocketPair> ConnectAsync()
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(listener.LocalEndPoint!);
            return new SocketPair(client, await listener.AcceptAsync());
        }

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
        }
    }

    private sealed class ListLogger : ILogger
    {
        private readonly List<string> _lines = [];

        public IReadOnlyList<string> Lines
        {
            get
            {
                lock (_lines)
                {
                    return [.. _lines];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_lines)
            {
                _lines.Add($"{logLevel}: {formatter(state, exception)}");
            }
        }
    }
}
