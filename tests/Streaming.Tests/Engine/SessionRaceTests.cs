using Streaming.Cells.Backends;
using Streaming.Persistence;

namespace Streaming.Tests.Engine;

/// <summary>
/// Operations reach a resident session on their callers' threads, and a session's actor exists only while it
/// loads, passivates or saves the session: these tests race callers against each other and against those phases.
/// </summary>
public sealed class SessionRaceTests
{
    [Fact]
    public async Task Concurrent_pushes_to_one_session_apply_in_one_order_that_keeps_each_callers_order()
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, BackendOptions.Managed);
        // A small in-flight limit, so pushes also wait in the session's queue.
        await using var scope = await EngineScope.StartAsync(identity, weights, new EngineOptions { MaxInFlightPerSession = 3 });
        await scope.Engine.OpenAsync("shared");
        const int callers = 8, perCaller = 25;
        var tokens = Enumerable.Range(0, callers).Select(c => TestModels.RandomSequence(spec, new Random(100 + c), perCaller)).ToArray();
        using var start = new Barrier(callers);

        var results = await Task.WhenAll(Enumerable.Range(0, callers).Select(c => Task.Run(() =>
        {
            start.SignalAndWait();
            return Task.WhenAll(tokens[c].Select(token => scope.Engine.PushAsync("shared", token)));
        })));

        var applied = new (Token Token, TokenOutput Output)[callers * perCaller];
        for (var c = 0; c < callers; c++)
        {
            var positions = results[c].Select(o => o.Position).ToArray();
            Assert.True(positions.Zip(positions.Skip(1)).All(p => p.First < p.Second), $"caller {c} got positions out of its order");
            for (var i = 0; i < perCaller; i++)
            {
                applied[results[c][i].Position - 1] = (tokens[c][i], results[c][i]);
            }
        }

        // Positions 1..N are each used once, and the outputs are those of the tokens in that order.
        Assert.All(applied, a => Assert.NotNull(a.Output));
        var expected = reference.Run(applied.Select(a => a.Token).ToArray());
        for (var t = 0; t < applied.Length; t++)
        {
            Expect.Close(expected.Outputs[t], applied[t].Output.Output.Span, $"position {t + 1}");
        }
    }

    [Fact]
    public async Task Operations_sent_while_a_new_session_loads_wait_and_apply_in_order()
    {
        var spec = TestModels.Gru2;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, BackendOptions.Managed);
        var store = new GatedStore();
        await using var scope = await EngineScope.StartAsync(identity, weights, new EngineOptions { Store = store, MaxInFlightPerSession = 4 });
        var tokens = TestModels.RandomSequence(spec, new Random(5), 30);

        // Nothing is awaited: the session's entry is held while its actor loads, so all of these queue behind the open.
        store.HoldLoads();
        var opened = scope.Engine.OpenAsync("a");
        var pushes = tokens.Select(token => scope.Engine.PushAsync("a", token)).ToArray();
        var snapshot = scope.Engine.SnapshotAsync("a");
        Assert.False(opened.IsCompleted);
        store.ReleaseLoads();

        await opened;
        var expected = reference.Run(tokens);
        for (var t = 0; t < tokens.Length; t++)
        {
            var output = await pushes[t];
            Assert.Equal(t + 1, output.Position);
            Expect.Close(expected.Outputs[t], output.Output.Span, $"step {t}");
        }

        Assert.Equal(tokens.Length, (await snapshot).Position);
    }

    [Theory]
    [InlineData(BackendKind.Managed)]
    [InlineData(BackendKind.Torch)]
    public async Task Sessions_that_passivate_between_and_during_their_operations_lose_and_reorder_nothing(BackendKind backend)
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, BackendOptions.Managed);
        var store = new GatedStore();
        // Passivation as eager as it gets: sessions passivate whenever they pause, often as their next token arrives.
        var options = new EngineOptions { Backend = new BackendOptions(backend), PassivateAfter = TimeSpan.FromMilliseconds(2), Store = store, MaxInFlightPerSession = 2 };
        await using var scope = await EngineScope.StartAsync(identity, weights, options);
        const int sessions = 12, length = 30;
        var sequences = Enumerable.Range(0, sessions).Select(s => TestModels.RandomSequence(spec, new Random(40 + s), length)).ToArray();

        var outputs = await Task.WhenAll(Enumerable.Range(0, sessions).Select(s => Task.Run(async () =>
        {
            var pause = new Random(s);
            await scope.Engine.OpenAsync($"s{s}");
            var results = new List<Task<TokenOutput>>();
            for (var t = 0; t < length; t++)
            {
                results.Add(scope.Engine.PushAsync($"s{s}", sequences[s][t]));
                if (pause.Next(3) == 0)
                {
                    // Let the session fall idle (its passivation may begin) before the next token.
                    await Task.WhenAll(results);
                    await store.NextSaveOrTimeoutAsync(TimeSpan.FromMilliseconds(pause.Next(1, 6)));
                }
            }

            return await Task.WhenAll(results);
        })));

        Assert.True(store.Saves > 0, "no session passivated; the test raced nothing");
        for (var s = 0; s < sessions; s++)
        {
            var expected = reference.Run(sequences[s]);
            for (var t = 0; t < length; t++)
            {
                Assert.Equal(t + 1, outputs[s][t].Position);
                Expect.Close(expected.Outputs[t], outputs[s][t].Output.Span, $"session {s} step {t}");
            }
        }

        Assert.Equal(sessions, scope.Engine.Statistics.SessionsOpen);
    }

    /// <summary>An in-memory store whose loads can be held back, and which counts saves.</summary>
    private sealed class GatedStore : ISnapshotStore
    {
        private readonly InMemorySnapshotStore _inner = new();
        private readonly SemaphoreSlim _saved = new(0);
        private TaskCompletionSource _loads = Released();
        private int _saves;

        public int Saves => Volatile.Read(ref _saves);

        public void HoldLoads() => _loads = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void ReleaseLoads() => _loads.TrySetResult();

        /// <summary>Waits for a save (a passivation), or at most <paramref name="timeout"/>; a pause between tokens either way.</summary>
        public Task NextSaveOrTimeoutAsync(TimeSpan timeout) => _saved.WaitAsync(timeout);

        public async Task SaveAsync(string sessionId, StoredSession stored, CancellationToken cancellationToken = default)
        {
            await _inner.SaveAsync(sessionId, stored, cancellationToken);
            Interlocked.Increment(ref _saves);
            _saved.Release();
        }

        public async Task<StoredSession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
        {
            await _loads.Task;
            return await _inner.LoadAsync(sessionId, cancellationToken);
        }

        public Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default) => _inner.DeleteAsync(sessionId, cancellationToken);

        private static TaskCompletionSource Released()
        {
            var released = new TaskCompletionSource();
            released.SetResult();
            return released;
        }
    }
}
