using Streaming.Persistence;

namespace Streaming.Tests.Engine;

/// <summary>A session's store calls against its own operations, with the test deciding which completes first.</summary>
public sealed class StoreRaceTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_close_answered_while_a_checkpoint_is_being_saved_leaves_nothing_in_the_store_and_stays_closed_after_a_restart(bool savedBefore)
    {
        var (identity, weights) = TestModels.Create(TestModels.Gru2);
        var tokens = TestModels.RandomSequence(TestModels.Gru2, new Random(9), 3);
        var store = new ControlledStore();
        var options = new EngineOptions { Store = store, CheckpointEvery = TimeSpan.FromMilliseconds(10) };
        await using (var scope = await EngineScope.StartAsync(identity, weights, options))
        {
            if (savedBefore)
            {
                // A first checkpoint lands, so the store holds the session when the close comes.
                await scope.Engine.OpenAsync("a");
                await scope.Engine.PushAsync("a", tokens[0]);
                while ((await store.NextSaveStartedAsync()).Snapshot?.Position != 1)
                {
                }

                await store.IdleAsync();
                store.HoldSaves();
                await scope.Engine.PushAsync("a", tokens[1]);
            }
            else
            {
                store.HoldSaves();
                await scope.Engine.OpenAsync("a");
                await scope.Engine.PushAsync("a", tokens[0]);
            }

            await store.NextSaveStartedAsync();

            // The checkpoint's save is in flight (held) when the close arrives. Once the close has left the pipeline it
            // is applied, yet it must not be answered while that save may still land.
            var close = scope.Engine.CloseAsync("a");
            try
            {
                await Until(() => scope.Engine.Statistics.ElementsInPipeline == 0, "the close to leave the pipeline");
                Assert.False(close.IsCompleted, "the close was answered while a save of the session was in flight");
            }
            finally
            {
                store.ReleaseSaves();
            }

            await close;
            await store.IdleAsync();
            Assert.Equal(0, store.Count);
            Assert.Equal(0, store.Overlaps);
        }

        // Another engine on the store: the closed session does not come back.
        await using var restarted = await EngineScope.StartAsync(identity, weights, options with { CheckpointEvery = null });
        var unknown = await Assert.ThrowsAsync<EngineException>(() => restarted.Engine.PushAsync("a", tokens[2]));
        Assert.Equal(EngineErrorCode.UnknownSession, unknown.Code);
        await restarted.Engine.OpenAsync("a");
        Assert.Equal(1, (await restarted.Engine.PushAsync("a", tokens[2])).Position);
    }

    [Fact]
    public async Task A_passivated_session_whose_stored_last_use_is_later_than_its_engine_noted_still_expires()
    {
        var (identity, weights) = TestModels.Create(TestModels.Lstm2);
        var token = TestModels.RandomToken(TestModels.Lstm2, new Random(4));
        // The store's copy says the session was used 150 ms later than the engine's own note of it (as when two
        // clocks disagree): the session must expire by what the store says, not be forgotten.
        var store = new LaterLastUseStore(TimeSpan.FromMilliseconds(150));
        var options = new EngineOptions { Store = store, PassivateAfter = TimeSpan.FromMilliseconds(20), ExpireAfter = TimeSpan.FromMilliseconds(300) };
        await using var scope = await EngineScope.StartAsync(identity, weights, options);
        await scope.Engine.OpenAsync("a");
        await scope.Engine.PushAsync("a", token);

        var tombstone = await store.Tombstone.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(tombstone.IsExpired);
        var expired = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.PushAsync("a", token));
        Assert.Equal(EngineErrorCode.SessionExpired, expired.Code);
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"gave up waiting for {what}");
            await Task.Delay(5);
        }
    }

    /// <summary>An in-memory store that adds <c>shift</c> to the last use of every snapshot it saves, and reports the first tombstone.</summary>
    private sealed class LaterLastUseStore(TimeSpan shift) : ISnapshotStore
    {
        private readonly InMemorySnapshotStore _inner = new();
        private readonly TaskCompletionSource<StoredSession> _tombstone = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<StoredSession> Tombstone => _tombstone.Task;

        public async Task SaveAsync(string sessionId, StoredSession stored, CancellationToken cancellationToken = default)
        {
            await _inner.SaveAsync(sessionId, stored.IsExpired ? stored : stored with { LastUsed = stored.LastUsed + shift }, cancellationToken);
            if (stored.IsExpired)
            {
                _tombstone.TrySetResult(stored);
            }
        }

        public Task<StoredSession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default) => _inner.LoadAsync(sessionId, cancellationToken);

        public Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default) => _inner.DeleteAsync(sessionId, cancellationToken);
    }
}
