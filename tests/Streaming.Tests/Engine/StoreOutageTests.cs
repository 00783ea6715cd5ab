using Streaming.Cells.Backends;
using static Streaming.Tests.Engine.FaultyStore;

namespace Streaming.Tests.Engine;

/// <summary>The store goes down under load and comes back: the engine keeps serving, tells store failures as they are, and loses nothing.</summary>
public sealed class StoreOutageTests
{
    private static readonly Token[] Tokens = TestModels.RandomSequence(TestModels.Lstm2, new Random(11), 30);

    [Fact]
    public async Task Through_a_store_outage_tokens_are_answered_checkpoints_fail_then_resume_and_closes_evictions_and_loads_are_refused_StoreFailed()
    {
        var (identity, weights) = TestModels.Create(TestModels.Lstm2);
        using var reference = new Reference(weights, BackendOptions.Managed);
        var expected = reference.Run(Tokens).Outputs;
        var store = new FaultyStore();
        var options = new EngineOptions { Store = store, CheckpointEvery = TimeSpan.FromMilliseconds(5) };
        await using (var scope = await EngineScope.StartAsync(identity, weights, options))
        {
            var engine = scope.Engine;
            foreach (var id in new[] { "a", "b", "c" })
            {
                await engine.OpenAsync(id);
                await PushAsync(engine, id, 0, 10, expected);
            }

            // c moves out into the store before the outage; a and b are checkpointed at position 10.
            Assert.True(await engine.EvictAsync("c"));
            await SavedAsync(store, 10, "a", "b");

            store.GoDown();
            await PushAsync(engine, "a", 10, 20, expected);
            await PushAsync(engine, "b", 10, 20, expected);

            // Checkpoints fail and are counted; each is tried again (the failure was taken before the next try starts).
            await store.NextAsync(call => call is { Kind: CallKind.Save, SessionId: "b", Failed: true });
            await store.NextAsync(call => call is { Kind: CallKind.Save, SessionId: "b" });
            // One reading: checkpoints keep failing meanwhile, so two readings could see a failure the other did not.
            var failures = engine.Statistics;
            Assert.True(failures.CheckpointsFailed >= 1, "a failed checkpoint is counted");
            Assert.True(failures.StoreFailures >= failures.CheckpointsFailed, "every failed store call is counted");

            // An eviction that cannot save is refused, and the session stays resident and serving.
            var eviction = await Assert.ThrowsAsync<EngineException>(() => engine.EvictAsync("b"));
            Assert.Equal(EngineErrorCode.StoreFailed, eviction.Code);
            await PushAsync(engine, "b", 20, 21, expected);

            // A session the store holds is never called unknown, nor opened afresh, when the store cannot be asked.
            foreach (var operation in new Func<Task>[] { () => engine.PushAsync("c", Tokens[10] with { At = 10 }), () => engine.OpenAsync("c") })
            {
                var refused = await Assert.ThrowsAsync<EngineException>(operation);
                Assert.Equal(EngineErrorCode.StoreFailed, refused.Code);
                Assert.Contains("could not be loaded", refused.Message, StringComparison.Ordinal);
                Assert.Contains("connection refused", refused.Message, StringComparison.Ordinal);
            }

            // A close whose delete fails is not answered as done.
            var close = await Assert.ThrowsAsync<EngineException>(() => engine.CloseAsync("a"));
            Assert.Equal(EngineErrorCode.StoreFailed, close.Code);

            store.ComeBack();
            // Checkpoints resume where the session is; the session the store held resumes where it was.
            await store.NextAsync(call => call is { Kind: CallKind.Save, SessionId: "b", Position: 21, Failed: false });
            await PushAsync(engine, "c", 10, 12, expected);
            Assert.True(await engine.EvictAsync("b"));

            // The close, retried, finds the copy the failed delete left, and deletes it.
            await engine.CloseAsync("a");
            Assert.Null(await store.PeekAsync("a"));
        }

        // Another engine on the store: nothing accepted was lost, and the closed session stays closed.
        await using var restarted = await EngineScope.StartAsync(identity, weights, options);
        await PushAsync(restarted.Engine, "b", 21, 25, expected);
        await PushAsync(restarted.Engine, "c", 12, 14, expected);
        var unknown = await Assert.ThrowsAsync<EngineException>(() => restarted.Engine.PushAsync("a", Tokens[0]));
        Assert.Equal(EngineErrorCode.UnknownSession, unknown.Code);
    }

    // Pushes tokens [from, to) with their positions and checks each output against the bulk call.
    private static async Task PushAsync(RecurrentEngine engine, string id, int from, int to, float[][] expected)
    {
        for (var t = from; t < to; t++)
        {
            var output = await engine.PushAsync(id, Tokens[t] with { At = t });
            Assert.Equal(t + 1, output.Position);
            Expect.Close(expected[t], output.Output.Span, $"session {id}, step {t}");
        }
    }

    private static async Task SavedAsync(FaultyStore store, long position, params string[] ids)
    {
        var waiting = ids.ToHashSet(StringComparer.Ordinal);
        while (waiting.Count > 0)
        {
            var call = await store.NextAsync(c => c is { Kind: CallKind.Save, Failed: false } && c.Position == position && waiting.Contains(c.SessionId));
            waiting.Remove(call.SessionId);
        }
    }
}
