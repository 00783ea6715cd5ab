using System.Collections.Concurrent;
using Akka.Actor;
using Streaming.Cells.Backends;
using Streaming.Pipeline;
using Streaming.Tests.Engine;

namespace Streaming.Tests.Pipeline;

/// <summary>An engine's whole pipeline (every layer and the head) fed directly, with each stage's processor watched.</summary>
public sealed class EnginePipelineTests : IAsyncLifetime
{
    private readonly ActorSystem _system = ActorSystem.Create("pipeline-test", "akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _system.Terminate();

    [Theory]
    [InlineData(BackendKind.Managed)]
    [InlineData(BackendKind.Torch)]
    public async Task Many_sessions_in_flight_are_computed_in_batches_that_never_hold_a_session_twice_at_any_stage(BackendKind kind)
    {
        var spec = TestModels.EmbeddingHead;
        var (_, weights) = TestModels.Create(spec);
        using var backend = RecurrentBackends.Create(weights, new BackendOptions(kind));
        var batches = new ConcurrentQueue<(string Stage, string[] Sessions)>();
        var stages = PipelineStage.Of(backend, initialSlots: 16)
            .Select(s => s with { CreateProcessor = () => new WatchedProcessor(s.CreateProcessor(), s.Counters.Name, batches) })
            .ToArray();
        var pipeline = EnginePipeline.Start(_system, stages, new BatchSettings(1024, 1024, TimeSpan.Zero));
        var owner = new CollectingOwner();
        var random = new Random(7);
        const int sessions = 200, length = 20;

        var sent = Enumerable.Range(0, sessions).Select(s => new Element(ElementKind.Open, $"s{s}", spec.Recurrent.NumLayers, owner)).ToList();
        foreach (var (session, step) in ConcurrentSessionsTests.Interleave(Enumerable.Repeat(length, sessions).ToArray(), random))
        {
            sent.Add(new Element(ElementKind.Token, $"s{session}", spec.Recurrent.NumLayers, owner) { Ids = [random.Next(20)], Position = step + 1 });
        }

        sent.ForEach(e => Assert.True(pipeline.Input.TryWrite(e)));
        pipeline.Input.Complete();
        await pipeline.Completion;
        pipeline.Dispose();

        var completed = owner.Completed;
        Assert.Equal(sent.Count, completed.Count);
        // Each session's elements come back in the order it sent them.
        foreach (var session in completed.GroupBy(e => e.SessionId))
        {
            Assert.Equal(sent.Where(e => e.SessionId == session.Key), session);
        }

        Assert.Equal(["head", "layer 0"], batches.Select(b => b.Stage).Distinct().Order());
        Assert.All(batches, b => Assert.Equal(b.Sessions.Length, b.Sessions.Distinct().Count()));
        foreach (var stage in stages)
        {
            var statistics = stage.Counters.Read();
            Assert.Equal(sent.Count, statistics.Elements);
            Assert.Equal(batches.Count(b => b.Stage == statistics.Name), statistics.Batches);
            Assert.True(statistics.LargestBatch > 1, $"{statistics.Name}: the largest batch held {statistics.LargestBatch} element(s)");
        }
    }

    /// <summary>A stage's processor, with each batch's session ids written down before it computes.</summary>
    private sealed class WatchedProcessor(IBatchProcessor inner, string stage, ConcurrentQueue<(string Stage, string[] Sessions)> batches) : IBatchProcessor
    {
        public void Process(IReadOnlyList<Element> batch)
        {
            batches.Enqueue((stage, batch.Select(e => e.SessionId).ToArray()));
            inner.Process(batch);
        }

        public void Dispose() => inner.Dispose();
    }

    /// <summary>Collects what the sink hands back (one sink thread at a time).</summary>
    private sealed class CollectingOwner : IElementOwner
    {
        private readonly ConcurrentQueue<Element> _completed = new();

        public IReadOnlyList<Element> Completed => _completed.ToArray();

        void IElementOwner.Completed(Element element) => _completed.Enqueue(element);
    }
}
