using Streaming.Cells.Backends;
using Streaming.Persistence;

namespace Streaming.Tests.Engine;

/// <summary>Checkpoints, crash recovery with token positions, time-to-live expiry, eviction and close against the store.</summary>
public sealed class DurabilityTests
{
    [Theory]
    [InlineData(BackendKind.Managed)]
    [InlineData(BackendKind.Torch)]
    public async Task After_a_crash_a_session_resumes_from_its_last_checkpoint_and_the_client_is_told_where_to_resend(BackendKind backend)
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        var tokens = TestModels.RandomSequence(spec, new Random(5), 20);
        using var reference = new Reference(weights, new BackendOptions(backend));
        var expected = reference.Run(tokens);
        var store = new FreezableStore();
        var options = new EngineOptions { Backend = new BackendOptions(backend), Store = store, CheckpointEvery = TimeSpan.FromMilliseconds(20) };

        var first = await EngineScope.StartAsync(identity, weights, options);
        await first.Engine.OpenAsync("a");
        for (var t = 0; t < 10; t++)
        {
            await first.Engine.PushAsync("a", tokens[t] with { At = t });
        }

        // The statistics count a checkpoint once its save has completed, just after it is in the store.
        await Eventually(async () => (await store.LoadAsync("a"))?.Snapshot?.Position == 10 && first.Engine.Statistics.CheckpointsSaved >= 1, "a checkpoint at position 10");
        store.Freeze();
        for (var t = 10; t < 15; t++)
        {
            await first.Engine.PushAsync("a", tokens[t] with { At = t });
        }

        // The crash: the process is gone without a shutdown; tokens 10-14 were answered but never persisted.
        await first.System.Terminate();
        store.Thaw();

        await using var second = await EngineScope.StartAsync(identity, weights, options);
        var ahead = await Assert.ThrowsAsync<EngineException>(() => second.Engine.PushAsync("a", tokens[15] with { At = 15 }));
        Assert.Equal(EngineErrorCode.PositionAhead, ahead.Code);
        Assert.Equal(10, ahead.Position);
        Assert.Contains("resumed at position 10 from its last persisted snapshot", ahead.Message, StringComparison.Ordinal);

        var duplicate = await Assert.ThrowsAsync<EngineException>(() => second.Engine.PushAsync("a", tokens[9] with { At = 9 }));
        Assert.Equal(EngineErrorCode.DuplicateToken, duplicate.Code);
        Assert.Equal(10, duplicate.Position);

        for (var t = 10; t < 20; t++)
        {
            var output = await second.Engine.PushAsync("a", tokens[t] with { At = t });
            Assert.Equal(t + 1, output.Position);
            Expect.Close(expected.Outputs[t], output.Output.Span, $"step {t} after the crash");
        }
    }

    [Fact]
    public async Task After_a_crash_tokens_applied_and_checkpointed_whose_answers_were_lost_are_answered_with_their_original_outputs()
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        var tokens = TestModels.RandomSequence(spec, new Random(6), 12);
        // Saved as bytes, so the outputs go through the stored format as they do in a database.
        var store = new FreezableStore { AsBytes = true };
        var options = new EngineOptions { Store = store, CheckpointEvery = TimeSpan.FromMilliseconds(20) };

        var first = await EngineScope.StartAsync(identity, weights, options);
        await first.Engine.OpenAsync("a");
        // The node applied and checkpointed these, but (as far as the client knows) their answers never left it.
        var lost = new float[10][];
        for (var t = 0; t < 10; t++)
        {
            lost[t] = (await first.Engine.PushAsync("a", tokens[t] with { At = t })).Output.ToArray();
        }

        await Eventually(async () => (await store.LoadAsync("a"))?.Snapshot?.Position == 10 && first.Engine.Statistics.CheckpointsSaved >= 1, "a checkpoint at position 10");
        await first.System.Terminate();

        await using var second = await EngineScope.StartAsync(identity, weights, options);
        for (var t = 0; t < 10; t++)
        {
            var duplicate = await Assert.ThrowsAsync<EngineException>(() => second.Engine.PushAsync("a", tokens[t] with { At = t }));
            Assert.Equal((EngineErrorCode.DuplicateToken, 10L), (duplicate.Code, duplicate.Position!.Value));
            var output = Assert.IsType<TokenOutput>(duplicate.Output);
            Assert.Equal(("a", t + 1L), (output.SessionId, output.Position));
            Assert.Equal(lost[t], output.Output.ToArray());
        }

        Assert.Equal(11, (await second.Engine.PushAsync("a", tokens[10] with { At = 10 })).Position);
    }

    [Fact]
    public async Task A_resident_session_idle_past_its_time_to_live_expires_and_its_next_operation_says_so()
    {
        var (identity, weights) = TestModels.Create(TestModels.Gru2);
        var tokens = TestModels.RandomSequence(TestModels.Gru2, new Random(3), 3);
        var store = new InMemorySnapshotStore();
        await using var scope = await EngineScope.StartAsync(identity, weights, new EngineOptions { Store = store, ExpireAfter = TimeSpan.FromMilliseconds(400) });
        await scope.Engine.OpenAsync("a");
        var first = await scope.Engine.PushAsync("a", tokens[0]);

        await Eventually(() => Task.FromResult(scope.Engine.Statistics.SessionsExpired == 1), "the session to expire");
        Assert.Equal(0, scope.Engine.Statistics.SessionsOpen);
        Assert.True((await store.LoadAsync("a"))!.IsExpired);
        foreach (var operation in new Func<Task>[]
                 {
                     () => scope.Engine.PushAsync("a", tokens[1]),
                     () => scope.Engine.SnapshotAsync("a"),
                     () => scope.Engine.ResetAsync("a"),
                     () => scope.Engine.CloseAsync("a"),
                 })
        {
            var expired = await Assert.ThrowsAsync<EngineException>(operation);
            Assert.Equal(EngineErrorCode.SessionExpired, expired.Code);
            Assert.Contains("time-to-live", expired.Message, StringComparison.Ordinal);
        }

        // Opening it again starts afresh: the first output is the first output of a new session. (On an engine of
        // the same store without a time-to-live, which finds the tombstone too, so a slow machine cannot expire the
        // reopened session before its token.)
        await using var later = await EngineScope.StartAsync(identity, weights, new EngineOptions { Store = store });
        Assert.Equal(EngineErrorCode.SessionExpired, (await Assert.ThrowsAsync<EngineException>(() => later.Engine.PushAsync("a", tokens[0]))).Code);
        await later.Engine.OpenAsync("a");
        var again = await later.Engine.PushAsync("a", tokens[0]);
        Assert.Equal(1, again.Position);
        Expect.BitExact(first.Output.Span, again.Output.Span, "first step after reopening");
        await later.Engine.CloseAsync("a");
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task A_passivated_session_idle_past_its_time_to_live_is_replaced_by_a_tombstone()
    {
        var (identity, weights) = TestModels.Create(TestModels.Lstm2);
        var token = TestModels.RandomToken(TestModels.Lstm2, new Random(4));
        var store = new InMemorySnapshotStore();
        var options = new EngineOptions { Store = store, PassivateAfter = TimeSpan.FromMilliseconds(20), ExpireAfter = TimeSpan.FromMilliseconds(500) };
        await using var scope = await EngineScope.StartAsync(identity, weights, options);
        await scope.Engine.OpenAsync("a");
        await scope.Engine.PushAsync("a", token);

        // Counted as expired once the tombstone's save has completed, just after it is in the store.
        await Eventually(async () => (await store.LoadAsync("a")) is { IsExpired: true } && scope.Engine.Statistics.SessionsExpired == 1, "the tombstone");
        Assert.Equal(0, scope.Engine.Statistics.SessionsOpen);
        Assert.Equal(0, scope.Engine.Statistics.SessionsPassivated);
        var expired = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.PushAsync("a", token));
        Assert.Equal(EngineErrorCode.SessionExpired, expired.Code);
    }

    [Fact]
    public async Task A_stored_session_found_past_its_time_to_live_expires_on_its_next_use()
    {
        var (identity, weights) = TestModels.Create(TestModels.Gru2);
        var store = new InMemorySnapshotStore();
        var state = new SessionSnapshot(identity, 4, [new LayerState(new float[6], Array.Empty<float>()), new LayerState(new float[6], Array.Empty<float>())]);
        await store.SaveAsync("old", new StoredSession(state, DateTimeOffset.UtcNow - TimeSpan.FromHours(2)));
        await store.SaveAsync("recent", new StoredSession(state, DateTimeOffset.UtcNow));
        await using var scope = await EngineScope.StartAsync(identity, weights, new EngineOptions { Store = store, ExpireAfter = TimeSpan.FromHours(1) });

        var expired = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.SnapshotAsync("old"));
        Assert.Equal(EngineErrorCode.SessionExpired, expired.Code);
        Assert.True((await store.LoadAsync("old"))!.IsExpired);
        Assert.Equal(4, (await scope.Engine.SnapshotAsync("recent")).Position);
    }

    [Fact]
    public async Task An_evicted_session_continues_bit_for_bit_on_another_engine_sharing_the_store()
    {
        var spec = TestModels.ProjectedLstm;
        var (identity, weights) = TestModels.Create(spec);
        var tokens = TestModels.RandomSequence(spec, new Random(8), 40);
        var store = new InMemorySnapshotStore();
        float[][] steady;
        await using (var alone = await EngineScope.StartAsync(identity, weights))
        {
            await alone.Engine.OpenAsync("a");
            steady = await Task.WhenAll(tokens.Select(async t => (await alone.Engine.PushAsync("a", t)).Output.ToArray()));
        }

        await using var first = await EngineScope.StartAsync(identity, weights, new EngineOptions { Store = store });
        await using var second = await EngineScope.StartAsync(identity, weights, new EngineOptions { Store = store });
        await first.Engine.OpenAsync("a");
        // Tokens still in flight when the eviction is asked for are applied first.
        var before = tokens[..20].Select(t => first.Engine.PushAsync("a", t)).ToArray();
        Assert.True(await first.Engine.EvictAsync("a"));
        Assert.All(before, push => Assert.True(push.IsCompletedSuccessfully));
        Assert.Equal(0, first.Engine.Statistics.SessionsOpen);
        Assert.Equal(20, (await store.LoadAsync("a"))!.Snapshot!.Position);
        Assert.False(await first.Engine.EvictAsync("a"));
        Assert.False(await first.Engine.EvictAsync("never-opened"));

        var after = await Task.WhenAll(tokens[20..].Select(t => second.Engine.PushAsync("a", t)));
        for (var t = 0; t < tokens.Length; t++)
        {
            var output = t < 20 ? (await before[t]).Output : after[t - 20].Output;
            Expect.BitExact(steady[t], output.Span, $"step {t}");
        }

        Assert.Equal(40, after[^1].Position);
    }

    [Fact]
    public async Task Closing_a_persisted_session_deletes_it_from_the_store_so_it_can_be_opened_again()
    {
        var (identity, weights) = TestModels.Create(TestModels.RnnRelu);
        var store = new InMemorySnapshotStore();
        var token = TestModels.RandomToken(TestModels.RnnRelu, new Random(2));
        await using var scope = await EngineScope.StartAsync(identity, weights, new EngineOptions { Store = store, CheckpointEvery = TimeSpan.FromMilliseconds(10) });
        await scope.Engine.OpenAsync("a");
        await scope.Engine.PushAsync("a", token);
        await Eventually(async () => (await store.LoadAsync("a"))?.Snapshot?.Position == 1, "a checkpoint");

        await scope.Engine.CloseAsync("a");
        Assert.Null(await store.LoadAsync("a"));
        await scope.Engine.OpenAsync("a");
        Assert.Equal(1, (await scope.Engine.PushAsync("a", token)).Position);
    }

    [Fact]
    public void Durability_options_out_of_range_are_refused_by_name()
    {
        Assert.Contains("CheckpointEvery", Assert.Throws<ArgumentException>(() => new EngineOptions { CheckpointEvery = TimeSpan.Zero }.Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("ExpireAfter", Assert.Throws<ArgumentException>(() => new EngineOptions { ExpireAfter = TimeSpan.FromSeconds(-1) }.Validate()).Message, StringComparison.Ordinal);
        var order = Assert.Throws<ArgumentException>(() => new EngineOptions { PassivateAfter = TimeSpan.FromMinutes(5), ExpireAfter = TimeSpan.FromMinutes(1) }.Validate());
        Assert.Contains("passivate before they expire", order.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_negative_token_position_is_refused_as_invalid_input_and_applies_nothing()
    {
        await using var scope = await EngineScope.StartAsync(TestModels.Gru2);
        var token = TestModels.RandomToken(TestModels.Gru2, new Random(1));
        await scope.Engine.OpenAsync("a");
        var refused = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.PushAsync("a", token with { At = -1 }));
        Assert.Equal(EngineErrorCode.InvalidInput, refused.Code);
        Assert.Contains("position (At) is -1", refused.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => token.WithAt(-1));
        Assert.Equal(1, (await scope.Engine.PushAsync("a", token.WithAt(0))).Position);
    }

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"gave up waiting for {what}");
            await Task.Delay(10);
        }
    }

    /// <summary>An in-memory store that can stop persisting (saves succeed but are dropped), as if the process died after that point.</summary>
    private sealed class FreezableStore : ISnapshotStore
    {
        private readonly InMemorySnapshotStore _inner = new();
        private volatile bool _frozen;

        public void Freeze() => _frozen = true;

        public void Thaw() => _frozen = false;

        /// <summary>Whether what is saved goes through <see cref="StoredSession.ToBytes"/> and back, as a database keeps it.</summary>
        public bool AsBytes { get; init; }

        public Task SaveAsync(string sessionId, StoredSession stored, CancellationToken cancellationToken = default) =>
            _frozen ? Task.CompletedTask : _inner.SaveAsync(sessionId, AsBytes ? StoredSession.FromBytes(stored.ToBytes()) : stored, cancellationToken);

        public Task<StoredSession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default) => _inner.LoadAsync(sessionId, cancellationToken);

        public Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default) =>
            _frozen ? Task.CompletedTask : _inner.DeleteAsync(sessionId, cancellationToken);
    }
}
