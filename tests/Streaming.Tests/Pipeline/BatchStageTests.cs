using System.Threading.Channels;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Streaming.Pipeline;

namespace Streaming.Tests.Pipeline;

public sealed class BatchStageTests : Akka.TestKit.Xunit2.TestKit
{
    private static Element Token(string session, int step) =>
        new(ElementKind.Token, session, layerCount: 1) { Position = step };

    private static BatchStage Stage(RecordingProcessor processor, int maxBatchSize = 16, StageCounters? counters = null) =>
        new(() => processor, new BatchSettings(maxBatchSize, maxBatchSize, TimeSpan.Zero), counters ?? new StageCounters("test"));

    private static Source<Element, NotUsed> FromChannel(ChannelReader<Element> reader, RecordingProcessor processor, int maxBatchSize = 16) =>
        Source.FromGraph(new ChannelBatchStage(reader, () => processor, new BatchSettings(maxBatchSize, maxBatchSize, TimeSpan.Zero), new StageCounters("test")));

    [Fact]
    public async Task Batch_stage_must_not_put_one_session_twice_in_a_batch_and_must_keep_each_sessions_order()
    {
        var processor = new RecordingProcessor(holdFirstBatch: true);
        var elements = new[] { Token("a", 1), Token("a", 2), Token("b", 1), Token("a", 3), Token("c", 1), Token("b", 2), Token("z", 1) };
        var queued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var result = Source.From(elements)
            // Fused with the stage: when the last element passes here, the stage has queued every earlier one.
            .Select(e =>
            {
                if (e.SessionId == "z")
                {
                    queued.TrySetResult();
                }

                return e;
            })
            .Via(Stage(processor))
            .RunWith(Sink.Seq<Element>(), Sys.Materializer());

        await queued.Task;
        processor.Release();
        var output = await result;

        Assert.Equal(["a", "a b c z", "a b"], processor.Batches.Select(b => string.Join(' ', b)));
        Assert.Equal([1, 2, 3], output.Where(e => e.SessionId == "a").Select(e => e.Position));
        Assert.Equal([1, 2], output.Where(e => e.SessionId == "b").Select(e => e.Position));
    }

    [Fact]
    public async Task An_idle_batch_stage_computes_a_lone_element_at_once()
    {
        var processor = new RecordingProcessor(holdFirstBatch: false);
        var (queue, result) = Source.Queue<Element>(4, OverflowStrategy.Backpressure)
            .Via(Stage(processor))
            .ToMaterialized(Sink.Queue<Element>(), Keep.Both)
            .Run(Sys.Materializer());

        // Nothing else arrives, so only computing at once can bring the element out.
        await queue.OfferAsync(Token("a", 1));
        var first = await result.PullAsync();
        Assert.Equal("a", first.Value.SessionId);
        await queue.OfferAsync(Token("b", 1));
        Assert.Equal("b", (await result.PullAsync()).Value.SessionId);
        Assert.Equal(["a", "b"], processor.Batches.Select(b => string.Join(' ', b)));
        queue.Complete();
    }

    [Fact]
    public async Task A_batch_stage_takes_at_most_the_maximum_batch_size_and_counts_batch_sizes()
    {
        var processor = new RecordingProcessor(holdFirstBatch: true);
        var counters = new StageCounters("test");
        var elements = Enumerable.Range(0, 9).Select(i => Token($"s{i}", 1)).ToArray();
        var queued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var result = Source.From(elements)
            .Select(e =>
            {
                // The queue holds 3: s1, s2, s3 fill it while s0 computes.
                if (e.SessionId == "s3")
                {
                    queued.TrySetResult();
                }

                return e;
            })
            .Via(Stage(processor, maxBatchSize: 3, counters))
            .RunWith(Sink.Seq<Element>(), Sys.Materializer());

        await queued.Task;
        processor.Release();
        Assert.Equal(9, (await result).Count);

        Assert.Equal(["s0", "s1 s2 s3"], processor.Batches.Take(2).Select(b => string.Join(' ', b)));
        Assert.All(processor.Batches, b => Assert.InRange(b.Count, 1, 3));
        Assert.Equal(Enumerable.Range(0, 9).Select(i => $"s{i}"), processor.Batches.SelectMany(b => b));
        var statistics = counters.Read();
        Assert.Equal(processor.Batches.Count, statistics.Batches);
        Assert.Equal(9, statistics.Elements);
        Assert.Equal(3, statistics.LargestBatch);
        Assert.Equal(1, statistics.BatchSizeHistogram[0]);
    }

    [Fact]
    public async Task A_processor_failure_fails_the_stream_with_its_exception()
    {
        var processor = new RecordingProcessor(holdFirstBatch: false) { FailWith = new InvalidOperationException("broken layer") };
        var result = Source.From(new[] { Token("a", 1), Token("b", 1) })
            .Via(Stage(processor))
            .RunWith(Sink.Seq<Element>(), Sys.Materializer());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => result);
        Assert.Equal("broken layer", error.Message);
    }

    [Fact]
    public async Task A_last_stage_hands_its_batches_to_the_reply_lane_in_order_and_completes_only_once_they_are_delivered()
    {
        var processor = new RecordingProcessor(holdFirstBatch: false);
        var delivered = new List<Element>();
        var release = new ManualResetEventSlim(false);
        var lane = new ReplyLane(e =>
        {
            // The first delivery waits for the test: the stage computes on, at most one batch ahead of the lane.
            if (!release.Wait(TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException("the test never released the lane");
            }

            lock (delivered)
            {
                delivered.Add(e);
            }
        });
        var elements = Enumerable.Range(1, 6).SelectMany(step => new[] { "a", "b", "c" }.Select(s => Token(s, step))).ToArray();
        var (queue, result) = Source.Queue<Element>(64, OverflowStrategy.Backpressure)
            .Via(new BatchStage(() => processor, new BatchSettings(2, 2, TimeSpan.Zero), new StageCounters("test"), lane: lane))
            .ToMaterialized(Sink.Seq<Element>(), Keep.Both)
            .Run(Sys.Materializer());
        foreach (var element in elements)
        {
            await queue.OfferAsync(element);
        }

        queue.Complete();
        // One batch delivering (held), one computed behind it: no third batch starts.
        await AwaitConditionAsync(() => Task.FromResult(processor.Batches.Count == 2), TimeSpan.FromSeconds(10));
        await Task.Delay(200);
        Assert.Equal(2, processor.Batches.Count);
        Assert.False(result.IsCompleted);

        release.Set();
        var output = await result;

        Assert.Empty(output);
        Assert.Equal(elements.Length, delivered.Count);
        // Delivered batch after batch as computed, and so each session's elements in the order they came.
        Assert.Equal(processor.Batches.SelectMany(b => b), delivered.Select(e => e.SessionId));
        foreach (var session in new[] { "a", "b", "c" })
        {
            Assert.Equal(Enumerable.Range(1, 6).Select(i => (long)i), delivered.Where(e => e.SessionId == session).Select(e => e.Position));
        }
    }

    [Fact]
    public async Task A_delivery_that_throws_fails_the_stream_after_the_rest_of_its_batch_is_delivered()
    {
        var processor = new RecordingProcessor(holdFirstBatch: false);
        var delivered = new List<string>();
        var lane = new ReplyLane(e =>
        {
            lock (delivered)
            {
                delivered.Add(e.SessionId);
            }

            if (e.SessionId == "b")
            {
                throw new InvalidOperationException("broken owner");
            }
        });
        var result = Source.From(new[] { Token("a", 1), Token("b", 1), Token("c", 1) })
            .Via(new BatchStage(() => processor, new BatchSettings(16, 16, TimeSpan.Zero), new StageCounters("test"), lane: lane))
            .RunWith(Sink.Seq<Element>(), Sys.Materializer());

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => result);
        Assert.Equal("broken owner", error.Message);
        await lane.Drained;
        Assert.Equal(["a", "b", "c"], delivered.Order());
    }

    [Fact]
    public async Task A_channel_stage_starts_with_everything_the_channel_holds_and_reads_no_more_than_its_queue_takes()
    {
        var processor = new RecordingProcessor(holdFirstBatch: false);
        var channel = Channel.CreateUnbounded<Element>();
        // Written before the stage starts: a source of one element at a time would start its first batch with s0 alone.
        foreach (var i in Enumerable.Range(0, 7))
        {
            channel.Writer.TryWrite(Token($"s{i}", 1));
        }

        channel.Writer.Complete();
        var output = await FromChannel(channel.Reader, processor, maxBatchSize: 3)
            .RunWith(Sink.Seq<Element>(), Sys.Materializer());

        Assert.Equal(["s0 s1 s2", "s3 s4 s5", "s6"], processor.Batches.Select(b => string.Join(' ', b)));
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"s{i}"), output.Select(e => e.SessionId));
    }

    [Fact]
    public async Task A_channel_stage_takes_what_came_while_it_computed_into_one_batch_and_completes_after_computing_it()
    {
        var processor = new RecordingProcessor(holdFirstBatch: true);
        var channel = Channel.CreateUnbounded<Element>();
        var result = FromChannel(channel.Reader, processor)
            .RunWith(Sink.Seq<Element>(), Sys.Materializer());

        // Idle, it computes a lone element at once.
        channel.Writer.TryWrite(Token("a", 1));
        await AwaitConditionAsync(() => Task.FromResult(processor.Batches.Count == 1), TimeSpan.FromSeconds(10));
        foreach (var element in new[] { Token("b", 1), Token("a", 2), Token("c", 1), Token("b", 2) })
        {
            channel.Writer.TryWrite(element);
        }

        // Completed while the first batch computes: what the channel holds is still computed.
        channel.Writer.Complete();
        processor.Release();
        var output = await result;

        Assert.Equal(["a", "b a c", "b"], processor.Batches.Select(b => string.Join(' ', b)));
        Assert.Equal([1, 2], output.Where(e => e.SessionId == "a").Select(e => e.Position));
        Assert.Equal([1, 2], output.Where(e => e.SessionId == "b").Select(e => e.Position));
    }

    [Fact]
    public async Task A_channel_stage_fails_with_the_error_its_channel_was_completed_with()
    {
        var processor = new RecordingProcessor(holdFirstBatch: false);
        var channel = Channel.CreateUnbounded<Element>();
        var result = FromChannel(channel.Reader, processor)
            .RunWith(Sink.Queue<Element>(), Sys.Materializer());
        channel.Writer.TryWrite(Token("a", 1));
        Assert.Equal("a", (await result.PullAsync()).Value.SessionId);

        // Idle and waiting on the channel when the error comes.
        channel.Writer.Complete(new InvalidOperationException("writers failed"));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await result.PullAsync());
        Assert.Equal("writers failed", error.Message);
    }

    private sealed class RecordingProcessor(bool holdFirstBatch) : IBatchProcessor
    {
        private readonly ManualResetEventSlim _gate = new(!holdFirstBatch);
        private readonly List<List<string>> _batches = [];

        public Exception? FailWith { get; init; }

        public IReadOnlyList<IReadOnlyList<string>> Batches
        {
            get
            {
                lock (_batches)
                {
                    return _batches.ToList();
                }
            }
        }

        public void Release() => _gate.Set();

        public void Process(IReadOnlyList<Element> batch)
        {
            lock (_batches)
            {
                _batches.Add(batch.Select(e => e.SessionId).ToList());
            }

            if (FailWith is { } error)
            {
                throw error;
            }

            // Holds the first batch until the test has queued everything behind it.
            if (!_gate.Wait(TimeSpan.FromSeconds(30)))
            {
                throw new TimeoutException("the test never released the first batch");
            }
        }

        public void Dispose() => _gate.Dispose();
    }
}
