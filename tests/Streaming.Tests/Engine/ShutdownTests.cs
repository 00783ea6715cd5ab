using Streaming.Cells.Backends;
using Streaming.Persistence;

namespace Streaming.Tests.Engine;

public sealed class ShutdownTests
{
    [Fact]
    public async Task Disposing_with_sessions_open_finishes_accepted_tokens_and_saves_every_open_session()
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, BackendOptions.Managed);
        var store = new InMemorySnapshotStore();
        var random = new Random(23);
        var sequences = Enumerable.Range(0, 6).Select(_ => TestModels.RandomSequence(spec, random, 40)).ToArray();

        var first = await EngineScope.StartAsync(identity, weights, new EngineOptions { Store = store, MaxInFlightPerSession = 2 });
        for (var s = 0; s < sequences.Length; s++)
        {
            await first.Engine.OpenAsync($"s{s}");
        }

        await first.Engine.OpenAsync("closed");
        await first.Engine.CloseAsync("closed");
        // Most of these still wait in their sessions' queues when the shutdown begins.
        var accepted = sequences.SelectMany((seq, s) => seq[..30].Select(token => first.Engine.PushAsync($"s{s}", token))).ToArray();
        await first.DisposeAsync();

        Assert.All(accepted, push => Assert.True(push.IsCompletedSuccessfully));
        Assert.Equal(sequences.Length, store.Count);
        Assert.Null(await store.LoadAsync("closed"));
        for (var s = 0; s < sequences.Length; s++)
        {
            var saved = (await store.LoadAsync($"s{s}"))?.Snapshot;
            Assert.NotNull(saved);
            Assert.Equal(30, saved.Position);
            Expect.Close(reference.Run(sequences[s][..30]).H, saved.HiddenState(), $"session {s} h");
        }

        // Another engine on the same store resumes each session where it stopped.
        await using var second = await EngineScope.StartAsync(identity, weights, new EngineOptions { Store = store });
        for (var s = 0; s < sequences.Length; s++)
        {
            var expected = reference.Run(sequences[s]);
            for (var t = 30; t < 40; t++)
            {
                var output = await second.Engine.PushAsync($"s{s}", sequences[s][t]);
                Assert.Equal(t + 1, output.Position);
                Expect.Close(expected.Outputs[t], output.Output.Span, $"session {s} step {t}");
            }
        }

        Assert.Equal(sequences.Length, second.Engine.Statistics.SessionsOpen);
        // The store keeps each session's last saved state until the session is closed (a crash resumes from it).
        Assert.Equal(sequences.Length, store.Count);
        for (var s = 0; s < sequences.Length; s++)
        {
            await second.Engine.CloseAsync($"s{s}");
        }

        Assert.Equal(0, store.Count);
    }

    [Fact]
    public async Task Disposing_twice_waits_for_the_same_shutdown()
    {
        var scope = await EngineScope.StartAsync(TestModels.Gru2);
        await scope.Engine.OpenAsync("a");
        var first = scope.Engine.DisposeAsync().AsTask();
        var second = scope.Engine.DisposeAsync().AsTask();
        await Task.WhenAll(first, second);
        await scope.DisposeAsync();
        Assert.True(first.IsCompletedSuccessfully && second.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task An_engine_whose_actor_system_terminated_refuses_operations_and_still_disposes()
    {
        var scope = await EngineScope.StartAsync(TestModels.Gru2);
        await scope.Engine.OpenAsync("a");
        await scope.System.Terminate();

        var error = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.PushAsync("a", Token.Vector(new float[4])));
        Assert.Equal(EngineErrorCode.EngineStopped, error.Code);
        Assert.Contains("actor system has terminated", error.Message, StringComparison.Ordinal);
        await scope.Engine.DisposeAsync();
    }
}
