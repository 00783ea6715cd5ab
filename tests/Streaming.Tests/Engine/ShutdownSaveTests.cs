using System.Collections.Concurrent;
using Akka.Actor;
using Akka.Event;
using static Streaming.Tests.Engine.FaultyStore;

namespace Streaming.Tests.Engine;

/// <summary>
/// The saves an engine's shutdown makes when the store fails: each refused session stays and is tried again until
/// <see cref="EngineOptions.ShutdownSaveDeadline"/>; a store that returns in time loses nothing, one that does not leaves
/// the sessions counted, with a few lines in the log for the whole engine.
/// </summary>
public sealed class ShutdownSaveTests
{
    private static readonly Token[] Tokens = TestModels.RandomSequence(TestModels.Gru2, new Random(41), 3);

    [Fact]
    public async Task A_shutdown_whose_saves_the_store_refuses_retries_them_until_the_store_returns_and_loses_nothing()
    {
        var store = new FaultyStore();
        var (system, log) = Logged();
        var (identity, weights) = TestModels.Create(TestModels.Gru2);
        var engine = await RecurrentEngine.StartAsync(system, identity, weights, new EngineOptions { Store = store, ShutdownSaveDeadline = TimeSpan.FromMinutes(5) });
        try
        {
            var ids = new[] { "a", "b", "c" };
            foreach (var id in ids)
            {
                await engine.OpenAsync(id);
                foreach (var token in Tokens)
                {
                    await engine.PushAsync(id, token);
                }
            }

            store.GoDown();
            var stopping = engine.DisposeAsync().AsTask();
            // Each session's save is refused, and tried again: the shutdown waits for the store meanwhile.
            foreach (var id in ids)
            {
                await store.NextAsync(call => call is { Kind: CallKind.Save, Failed: true } && call.SessionId == id);
                await store.NextAsync(call => call is { Kind: CallKind.Save, Failed: true } && call.SessionId == id);
            }

            Assert.False(stopping.IsCompleted, "the shutdown ended while its saves were refused and its deadline was minutes away");
            store.ComeBack();
            await stopping;

            Assert.Equal(0, engine.Statistics.ShutdownSavesFailed);
            foreach (var id in ids)
            {
                Assert.Equal(Tokens.Length, (await store.PeekAsync(id))!.Snapshot!.Position);
            }

            // The report is the shutdown's last line: everything logged before it has been read once it is.
            await Until(log, line => line.EndsWith("none was lost.", StringComparison.Ordinal));
        }
        finally
        {
            await system.Terminate();
        }

        var lines = log.ToList();
        Assert.DoesNotContain(lines, line => line.Contains("Session ", StringComparison.Ordinal));
        Assert.Single(lines, line => line.StartsWith("Shutdown: the store refused to save session ", StringComparison.Ordinal) && line.Contains("for up to 300 s", StringComparison.Ordinal));
        Assert.Single(lines, line => line == "Shutdown: 3 session(s) whose save the store had refused were saved on a later attempt; none was lost.");
    }

    [Fact]
    public async Task A_shutdown_whose_store_stays_down_past_the_deadline_counts_the_sessions_it_could_not_save_and_says_so_once()
    {
        const int Sessions = 200;
        var store = new FaultyStore();
        var (system, log) = Logged();
        var (identity, weights) = TestModels.Create(TestModels.Gru2);
        var engine = await RecurrentEngine.StartAsync(system, identity, weights, new EngineOptions { Store = store, ShutdownSaveDeadline = TimeSpan.FromSeconds(2) });
        var ids = Enumerable.Range(0, Sessions).Select(s => $"s{s}").ToArray();
        try
        {
            await Task.WhenAll(ids.Select(async id =>
            {
                await engine.OpenAsync(id);
                await engine.PushAsync(id, Tokens[0]);
            }));

            store.GoDown();
            await engine.DisposeAsync();

            Assert.Equal(Sessions, engine.Statistics.ShutdownSavesFailed);
            Assert.True(engine.Statistics.StoreFailures > Sessions, $"{engine.Statistics.StoreFailures} failed store calls: sessions were tried more than once");
            await Until(log, line => line.StartsWith($"Shutdown: {Sessions} session(s) could not be saved", StringComparison.Ordinal));
        }
        finally
        {
            await system.Terminate();
        }

        foreach (var id in ids)
        {
            Assert.Null(await store.PeekAsync(id));
        }

        var lines = log.ToList();
        Assert.DoesNotContain(lines, line => line.Contains("Session ", StringComparison.Ordinal));
        Assert.Single(lines, line => line.StartsWith("Shutdown: the store refused to save session ", StringComparison.Ordinal));
        var error = Assert.Single(lines, line => line.StartsWith($"Shutdown: {Sessions} session(s) could not be saved into the store within 2 s; the first: session s", StringComparison.Ordinal));
        Assert.Contains("the test's store is down", error, StringComparison.Ordinal);
        Assert.EndsWith("0 other session(s) whose save had failed were saved on a later attempt.", error, StringComparison.Ordinal);
        Assert.Equal(2, lines.Count);
    }

    private static async Task Until(ConcurrentQueue<string> log, Func<string, bool> logged)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        while (!log.Any(logged))
        {
            Assert.False(guard.IsCancellationRequested, "gave up waiting for the shutdown's report; logged:\n" + string.Join('\n', log));
            await Task.Delay(10, CancellationToken.None);
        }
    }

    // An actor system whose warnings and errors the test reads, in order.
    private static (ActorSystem System, ConcurrentQueue<string> Log) Logged()
    {
        var system = ActorSystem.Create("shutdown-saves", "akka.loglevel = WARNING\nakka.stdout-loglevel = OFF");
        var log = new ConcurrentQueue<string>();
        var collector = system.ActorOf(Props.Create(() => new Collector(log)));
        system.EventStream.Subscribe(collector, typeof(Warning));
        system.EventStream.Subscribe(collector, typeof(Error));
        return (system, log);
    }

    private sealed class Collector : ReceiveActor
    {
        public Collector(ConcurrentQueue<string> log) => Receive<LogEvent>(e => log.Enqueue(e.Message.ToString()!));
    }
}
