using Akka.Event;
using Streaming.Cluster;
using Streaming.Tests.Engine;
using static Streaming.Tests.Engine.FaultyStore;

namespace Streaming.Tests.Cluster;

/// <summary>The save a shard hand-off makes of each session, when the store fails: keep the session and retry, or go honestly.</summary>
public sealed class HandOffSaveTests
{
    private static readonly Token[] Tokens = TestModels.RandomSequence(TestModels.Gru2, new Random(21), 4);

    [Fact]
    public async Task A_hand_off_whose_save_fails_keeps_the_session_and_retries_until_the_store_returns()
    {
        var store = new FaultyStore();
        await using var scope = await EngineScope.StartAsync(TestModels.Gru2, new EngineOptions { Store = store });
        await OpenAsync(scope.Engine);
        var handOffs = new HandOffSaves(TimeSpan.FromMinutes(5));

        store.GoDown();
        var saving = handOffs.EvictAsync(scope.Engine, "a", Logging.GetLogger(scope.System, "hand-off"));
        await store.NextAsync(call => call is { Kind: CallKind.Save, SessionId: "a", Failed: true });
        // Tried again: the session stayed resident, with its state, meanwhile.
        await store.NextAsync(call => call is { Kind: CallKind.Save, SessionId: "a", Failed: true });
        Assert.False(saving.IsCompleted);
        store.ComeBack();

        Assert.True(await saving);
        Assert.Equal(0, handOffs.Unsaved);
        Assert.Equal(3, (await store.PeekAsync("a"))!.Snapshot!.Position);
    }

    [Fact]
    public async Task A_hand_off_that_cannot_save_by_its_deadline_is_counted_and_its_stale_copy_is_never_saved()
    {
        var store = new FaultyStore();
        var scope = await EngineScope.StartAsync(TestModels.Gru2, new EngineOptions { Store = store, CheckpointEvery = TimeSpan.FromMilliseconds(5) });
        await using (scope)
        {
            await OpenAsync(scope.Engine);
            var handOffs = new HandOffSaves(TimeSpan.FromMilliseconds(300));
            store.GoDown();
            Assert.Equal(4, (await scope.Engine.PushAsync("a", Tokens[3])).Position);

            Assert.False(await handOffs.EvictAsync(scope.Engine, "a", Logging.GetLogger(scope.System, "hand-off")));
            Assert.Equal(1, handOffs.Unsaved);
            store.ComeBack();
        }

        // Neither a checkpoint nor the shutdown saved the copy left behind (at position 4): the session's new owner
        // alone decides what the store holds of it from now on.
        var stored = await store.PeekAsync("a");
        Assert.True(stored is null || stored.Snapshot!.Position < 4, $"the dropped copy at position {stored?.Snapshot?.Position} was saved");
    }

    private static async Task OpenAsync(RecurrentEngine engine)
    {
        await engine.OpenAsync("a");
        for (var t = 0; t < 3; t++)
        {
            await engine.PushAsync("a", Tokens[t]);
        }
    }
}
