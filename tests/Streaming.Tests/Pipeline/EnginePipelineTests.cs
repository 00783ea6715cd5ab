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

    [Fact]
    public async Task A_traced_element_carries_a_time_from_each_stage_in_order_and_reaches_the_listener_before_its_owner()
    {
        var spec = TestModels.EmbeddingHead;
        var (_, weights) = TestModels.Create(spec);
        using var backend = RecurrentBackends.Create(weights, BackendOptions.Managed);
        var stages = PipelineStage.Of(backend, initialSlots: 16);
        var pipeline = EnginePipeline.Start(_system, stages, new BatchSettings(1024, 1024, TimeSpan.Zero));
        var trace = pipeline.Trace;
        var heard = new ConcurrentQueue<Element>();
        var owner = new CollectingOwner();
        const int sessions = 40, length = 6;

        // Written before a listener is set: never traced.
        var untraced = Enumerable.Range(0, sessions).Select(s => new Element(ElementKind.Open, $"s{s}", spec.Recurrent.NumLayers, owner)).ToList();
        untraced.ForEach(e =>
        {
            trace.Enter(e);
            Assert.True(pipeline.Input.TryWrite(e));
        });
        trace.Listen(e =>
        {
            Assert.DoesNotContain(e, owner.Completed);
            heard.Enqueue(e);
        });
        var traced = new List<Element>();
        for (var step = 0; step < length; step++)
        {
            for (var s = 0; s < sessions; s++)
            {
                var token = new Element(ElementKind.Token, $"s{s}", spec.Recurrent.NumLayers, owner) { Ids = [(s + step) % 20], Position = step + 1 };
                trace.Enter(token);
                traced.Add(token);
                Assert.True(pipeline.Input.TryWrite(token));
            }
        }

        pipeline.Input.Complete();
        await pipeline.Completion;
        pipeline.Dispose();
        trace.Listen(null);

        Assert.Equal(untraced.Count + traced.Count, owner.Completed.Count);
        Assert.All(untraced, e => Assert.Null(e.Times));
        Assert.Equal(traced.OrderBy(e => e.SessionId).ThenBy(e => e.Position), heard.OrderBy(e => e.SessionId).ThenBy(e => e.Position));
        Assert.Equal(2 + (3 * stages.Count), trace.Length);
        foreach (var element in traced)
        {
            var times = element.Times!;
            var order = new List<int> { PipelineTrace.Entered };
            for (var stage = 0; stage < stages.Count; stage++)
            {
                order.AddRange([PipelineTrace.Received(stage), PipelineTrace.Started(stage), PipelineTrace.Computed(stage)]);
            }

            order.Add(trace.Left);
            Assert.All(order, index => Assert.NotEqual(0, times[index]));
            Assert.True(order.Zip(order.Skip(1)).All(p => times[p.First] <= times[p.Second]), $"{element.SessionId}@{element.Position}: {string.Join(", ", order.Select(i => times[i]))}");
        }

        // Tokens of one batch share its start and end at each stage.
        for (var stage = 0; stage < stages.Count; stage++)
        {
            var started = PipelineTrace.Started(stage);
            Assert.All(traced.GroupBy(e => e.Times![started]), batch => Assert.Single(batch.Select(e => e.Times![PipelineTrace.Computed(stage)]).Distinct()));
            Assert.Equal(traced.Count, traced.GroupBy(e => e.Times![started]).Sum(b => b.Select(e => e.SessionId).Distinct().Count()));
        }

        // Off again: nothing new carries times.
        var after = new Element(ElementKind.Token, "s0", spec.Recurrent.NumLayers, owner);
        trace.Enter(after);
        Assert.Null(after.Times);
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
