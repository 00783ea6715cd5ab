using System.Collections.Concurrent;
using Host.Tests.Protocol;
using Streaming.Client.Protocol;
using Streaming.Host.Server;

namespace Host.Tests.Server;

/// <summary>
/// A connection leaves nothing behind when it ends, however it ends: once every connection has ended and the garbage
/// collector has run, none of their connection stages is still reachable. (With Akka.Streams' <c>Tcp().Bind</c> on
/// Akka.NET 1.5.74 every one stayed reachable from the listener, about 12 KB a connection for good.)
/// </summary>
[Collection(nameof(ConnectionLeakTests))]
[CollectionDefinition(nameof(ConnectionLeakTests), DisableParallelization = true)]
public sealed class ConnectionLeakTests
{
    private const int PerWay = 12;

    /// <summary>The connection stages started so far, weakly held.</summary>
    private sealed class Tracker
    {
        private readonly ConcurrentQueue<WeakReference> _started = new();

        public ServerProbes Probes => new() { ConnectionStarted = logic => _started.Enqueue(new WeakReference(logic)) };

        public int Started => _started.Count;

        public int Reachable() => _started.Count(w => w.IsAlive);
    }

    private static async Task EachWayAConnectionEndsAsync(ServerScope scope)
    {
        var codec = new FrameCodec();
        for (var i = 0; i < PerWay; i++)
        {
            // Connect and close without a byte.
            await (await RawConnection.ConnectAsync(scope.Port, hello: false)).DisposeAsync();

            // Hello, Welcome, close.
            await (await RawConnection.ConnectAsync(scope.Port)).DisposeAsync();

            // A bad Hello: BadHandshake, then the server closes.
            await using (var bad = await RawConnection.ConnectAsync(scope.Port, hello: false))
            {
                await bad.SendAsync([7, 0, 0, 0, 1, 0x58, 0x58, 0x58, 0x58, 1, 0]);
                Assert.Equal((ushort)ProtocolErrorCode.BadHandshake, (await bad.ReadErrorAsync()).Code);
                await bad.ReadToEndAsync();
            }

            // An oversized frame: FrameTooLarge, then the server closes.
            await using (var oversized = await RawConnection.ConnectAsync(scope.Port))
            {
                await oversized.SendAsync(Raw.U32(uint.MaxValue));
                Assert.Equal((ushort)ProtocolErrorCode.FrameTooLarge, (await oversized.ReadErrorAsync()).Code);
                await oversized.ReadToEndAsync();
            }

            // Open, a token, close, and the client closes its socket without waiting.
            await using (var worker = await RawConnection.ConnectAsync(scope.Port))
            {
                var session = $"leak-{i}";
                await worker.SendAsync([.. codec.Encode(new OpenFrame(session, 1)), .. codec.Encode(TokenFrame.OfVector(session, 2, new[] { 0.1f, 0.2f, 0.3f })), .. codec.Encode(new CloseFrame(session, 3))]);
                Assert.IsType<AckFrame>(await worker.ReadAsync());
                Assert.IsType<OutputFrame>(await worker.ReadAsync());
                Assert.IsType<AckFrame>(await worker.ReadAsync());
            }
        }
    }

    private static async Task IdleConnectionsTimeOutAsync(ServerScope scope)
    {
        for (var i = 0; i < PerWay; i++)
        {
            await using var idle = await RawConnection.ConnectAsync(scope.Port);
            Assert.Equal((ushort)ProtocolErrorCode.IdleTimeout, (await idle.ReadErrorAsync()).Code);
            await idle.ReadToEndAsync();
        }
    }

    private static async Task<int> ReachableAfterCollectionAsync(Tracker tracker)
    {
        // A stopped stage becomes unreachable once its stream actor has finished stopping, just after the stage's last
        // callback; collect until none is reachable, or long enough that whatever is left is kept for good.
        var reachable = tracker.Reachable();
        for (var attempt = 0; attempt < 100 && reachable > 0; attempt++)
        {
            await Task.Delay(20);
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            reachable = tracker.Reachable();
        }

        return reachable;
    }

    [Fact]
    public async Task No_connection_stage_stays_reachable_after_its_connection_ends_whichever_way_it_ends()
    {
        var tracker = new Tracker();
        await using var scope = await ServerScope.StartAsync(probes: tracker.Probes);

        // Idle connections on a server of their own, so that no other way of ending can be overtaken by the timeout.
        var idleOptions = ServerOptions.Default with { Limits = ProtocolLimits.Default with { IdleTimeout = TimeSpan.FromMilliseconds(100) } };
        await using var idleScope = await ServerScope.StartAsync(options: idleOptions, probes: tracker.Probes);

        await EachWayAConnectionEndsAsync(scope);
        await IdleConnectionsTimeOutAsync(idleScope);
        // A stage counts its connection closed when it stops: every connection accepted has then stopped.
        await ServerScope.Until(
            () => scope.Server.Statistics is { ConnectionsOpen: 0 } a && idleScope.Server.Statistics is { ConnectionsOpen: 0 } b && a.ConnectionsAccepted + b.ConnectionsAccepted == 6 * PerWay,
            "every connection stage to stop");

        Assert.Equal(6 * PerWay, tracker.Started);
        Assert.Equal(0, await ReachableAfterCollectionAsync(tracker));
    }
}
