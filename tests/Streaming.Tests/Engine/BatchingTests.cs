using Streaming.Pipeline;
using Streaming.Cells.Backends;

namespace Streaming.Tests.Engine;

public sealed class BatchingTests
{
    [Theory]
    [InlineData(BackendKind.Managed)]
    [InlineData(BackendKind.Torch)]
    public async Task Many_sessions_in_flight_are_computed_in_batches(BackendKind backend)
    {
        // That no batch holds a session twice is shown on the pipeline itself (EnginePipelineTests).
        var spec = TestModels.EmbeddingHead;
        var options = new EngineOptions { Backend = new BackendOptions(backend) };
        await using var scope = await EngineScope.StartAsync(spec, options);
        var random = new Random(7);
        const int sessions = 200, length = 20;
        var sequences = Enumerable.Range(0, sessions).Select(_ => TestModels.RandomSequence(spec, random, length)).ToArray();
        var opened = Enumerable.Range(0, sessions).Select(s => scope.Engine.OpenAsync($"s{s}")).ToArray();
        var pushes = ConcurrentSessionsTests.Interleave(sequences.Select(s => s.Length).ToArray(), random)
            .Select(p => scope.Engine.PushAsync($"s{p.Session}", sequences[p.Session][p.Step]))
            .ToArray();
        await Task.WhenAll(opened);
        await Task.WhenAll(pushes);

        var statistics = scope.Engine.Statistics;
        foreach (var stage in statistics.Stages)
        {
            // Every open and every token passed every stage once.
            Assert.Equal(sessions * (length + 1), stage.Elements);
            Assert.True(stage.LargestBatch > 1, $"{stage.Name}: the largest batch held {stage.LargestBatch} element(s)");
            Assert.True(stage.Batches < stage.Elements / 2, $"{stage.Name}: {stage.Batches} batches for {stage.Elements} elements");
            Assert.Equal(stage.Batches, stage.BatchSizeHistogram.Sum());
            // Elements that joined a batch queued behind the one computing, so their waits add up above zero.
            Assert.True(stage.QueueWait > TimeSpan.Zero, $"{stage.Name}: queue wait {stage.QueueWait}");
        }

        // The default layout is chosen for the backend: one stage for the whole stack on Managed, a stage per layer on Torch.
        Assert.Equal(backend == BackendKind.Managed ? ["stack"] : ["layer 0", "head"], statistics.Stages.Select(l => l.Name));
    }

    [Fact]
    public async Task A_lone_token_on_an_idle_engine_is_computed_alone()
    {
        var options = new EngineOptions { BatchWait = TimeSpan.FromHours(1) };
        await using var scope = await EngineScope.StartAsync(TestModels.Lstm2, options);
        await scope.Engine.OpenAsync("a");

        // A stage that waited for company would hold the token for an hour (the guard below only stops a hang).
        var output = await scope.Engine.PushAsync("a", Token.Vector(new float[5])).WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(1, output.Position);
        // Every stage computed the open and the token each in a batch of one.
        Assert.NotEmpty(scope.Engine.Statistics.Stages);
        Assert.All(scope.Engine.Statistics.Stages, stage => Assert.Equal(2, stage.BatchSizeHistogram[0]));
    }

    [Fact]
    public async Task While_the_engine_is_traced_each_token_reaches_the_listener_with_its_session_and_position_and_only_then()
    {
        var spec = TestModels.EmbeddingHead;
        await using var scope = await EngineScope.StartAsync(spec, new EngineOptions { Backend = BackendOptions.Managed, Layout = PipelineLayout.PerLayer });
        var random = new Random(3);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(s => scope.Engine.OpenAsync($"s{s}")));
        var heard = new System.Collections.Concurrent.ConcurrentDictionary<(string, long), long[]>();
        scope.Engine.Trace.Listen(e => Assert.True(heard.TryAdd((e.SessionId, e.Position), e.Times!)));
        var outputs = await Task.WhenAll(Enumerable.Range(0, 8).SelectMany(s => TestModels.RandomSequence(spec, random, 4).Select(t => scope.Engine.PushAsync($"s{s}", t))));
        scope.Engine.Trace.Listen(null);
        await scope.Engine.PushAsync("s0", TestModels.RandomSequence(spec, random, 1)[0]);

        Assert.Equal(outputs.Select(o => (o.SessionId, o.Position)).Order(), heard.Keys.Order());
        Assert.All(heard.Values, times => Assert.Equal(scope.Engine.Trace.Length, times.Length));
        Assert.All(heard.Values, times => Assert.True(times[PipelineTrace.Entered] > 0 && times[^1] >= times[PipelineTrace.Entered]));
    }
}
