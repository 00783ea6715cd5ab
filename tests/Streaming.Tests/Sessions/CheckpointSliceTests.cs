using Streaming.Sessions;
using Streaming.Tests.Engine;

namespace Streaming.Tests.Sessions;

/// <summary>The checkpoint period's slices: every session saved once a period, the sessions spread over the period.</summary>
public sealed class CheckpointSliceTests
{
    [Fact]
    public void Over_one_period_of_ticks_every_session_is_due_once_and_the_sessions_spread_over_every_slice()
    {
        var ids = Enumerable.Range(0, 4096).Select(i => $"session-{i}").ToArray();
        var due = new int[ids.Length];
        for (var tick = 0; tick < SessionRegistry.CheckpointSlices; tick++)
        {
            for (var i = 0; i < ids.Length; i++)
            {
                if (SessionRegistry.SliceOf(ids[i]) == tick)
                {
                    due[i]++;
                }
            }
        }

        Assert.All(due, count => Assert.Equal(1, count));
        // 256 a slice on average: none is empty or holds more than twice its share, so no tick starts most of a period's saves.
        var sizes = ids.GroupBy(SessionRegistry.SliceOf).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(SessionRegistry.CheckpointSlices, sizes.Count);
        Assert.All(sizes.Values, size => Assert.InRange(size, 128, 512));
        Assert.All(ids, id => Assert.Equal(SessionRegistry.SliceOf(id), SessionRegistry.SliceOf(new string(id.AsSpan()))));
    }

    [Fact]
    public async Task Every_changed_session_is_checkpointed_whatever_its_slice()
    {
        var store = new ObservedStore();
        var options = new EngineOptions { Store = store, CheckpointEvery = TimeSpan.FromMilliseconds(160) };
        await using var scope = await EngineScope.StartAsync(TestModels.Lstm2, options);
        var ids = Enumerable.Range(0, 200).Select(i => $"c{i}").ToArray();
        Assert.Equal(SessionRegistry.CheckpointSlices, ids.Select(SessionRegistry.SliceOf).Distinct().Count());
        await Task.WhenAll(ids.Select(id => scope.Engine.OpenAsync(id)));
        await Task.WhenAll(ids.Select(id => scope.Engine.PushAsync(id, Token.Vector(new float[5]))));

        // Each slice's tick comes round once a period; the guard only stops a hang.
        var saved = new HashSet<string>(StringComparer.Ordinal);
        while (!ids.All(saved.Contains))
        {
            saved.Add(await store.NextSaveAsync().AsTask().WaitAsync(TimeSpan.FromMinutes(1)));
        }
    }
}
