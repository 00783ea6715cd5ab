using Akka.Streams;
using Akka.Streams.Dsl;
using Streaming.Cells.Backends;

namespace Streaming.Tests.Engine;

public sealed class FlowTests
{
    [Fact]
    public async Task The_session_flow_returns_one_sessions_outputs_in_order()
    {
        var spec = TestModels.Gru2;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, BackendOptions.Managed);
        await using var scope = await EngineScope.StartAsync(identity, weights);
        var tokens = TestModels.RandomSequence(spec, new Random(1), 150);
        await scope.Engine.OpenAsync("a");

        var outputs = await Source.From(tokens).Via(scope.Engine.SessionFlow("a")).RunWith(Sink.Seq<TokenOutput>(), scope.System.Materializer());

        var expected = reference.Run(tokens);
        Assert.Equal(Enumerable.Range(1, 150).Select(i => (long)i), outputs.Select(o => o.Position));
        for (var t = 0; t < tokens.Length; t++)
        {
            Expect.Close(expected.Outputs[t], outputs[t].Output.Span, $"step {t}");
        }
    }

    [Fact]
    public async Task A_slow_consumer_of_the_multi_session_flow_bounds_what_is_in_flight_and_loses_or_reorders_nothing()
    {
        var spec = TestModels.Lstm2;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, BackendOptions.Managed);
        // The multi-session flow keeps at most MaxBatchSize tokens in flight.
        const int inFlightLimit = 8, sessions = 20, length = 60;
        await using var scope = await EngineScope.StartAsync(identity, weights, new EngineOptions { MaxBatchSize = inFlightLimit, MaxInFlightPerSession = 4 });
        var random = new Random(3);
        var sequences = Enumerable.Range(0, sessions).Select(_ => TestModels.RandomSequence(spec, random, length)).ToArray();
        var inputs = ConcurrentSessionsTests.Interleave(sequences.Select(s => s.Length).ToArray(), random)
            .Select(p => new SessionInput($"s{p.Session}", sequences[p.Session][p.Step]))
            .ToArray();
        for (var s = 0; s < sessions; s++)
        {
            // One at a time, so that the peak counted below is the flow's alone.
            await scope.Engine.OpenAsync($"s{s}");
        }

        long produced = 0;
        var queue = Source.From(inputs)
            .Select(i =>
            {
                Interlocked.Increment(ref produced);
                return i;
            })
            .Via(scope.Engine.Flow())
            .RunWith(Sink.Queue<TokenOutput>().WithAttributes(Attributes.CreateInputBuffer(1, 1)), scope.System.Materializer());

        var received = new List<TokenOutput>();
        while (await queue.PullAsync() is { HasValue: true } next)
        {
            received.Add(next.Value);
            // Between the source and this consumer: the flow's in-flight tokens, the sink's one-element buffer and
            // the element being handed over; a producer that ran ahead would break this at some pull.
            Assert.InRange(Interlocked.Read(ref produced) - received.Count, 0, inFlightLimit + 2);
            Assert.InRange(scope.Engine.Statistics.ElementsInPipeline, 0, inFlightLimit);
            if (received.Count % 100 == 0)
            {
                // The consumer is slow now and then, to give an unbounded producer the chance to run ahead.
                await Task.Delay(20);
            }
        }

        Assert.Equal(inputs.Length, received.Count);
        Assert.InRange(scope.Engine.Statistics.PeakElementsInPipeline, 1, inFlightLimit);
        for (var s = 0; s < sessions; s++)
        {
            var mine = received.Where(o => o.SessionId == $"s{s}").ToArray();
            Assert.Equal(Enumerable.Range(1, length).Select(i => (long)i), mine.Select(o => o.Position));
            var expected = reference.Run(sequences[s]);
            for (var t = 0; t < length; t++)
            {
                Expect.Close(expected.Outputs[t], mine[t].Output.Span, $"session {s} step {t}");
            }
        }
    }

    [Fact]
    public async Task A_session_never_has_more_than_its_in_flight_limit_in_the_pipeline_and_waiting_tokens_complete_later()
    {
        var spec = TestModels.RnnRelu;
        var (identity, weights) = TestModels.Create(spec);
        using var reference = new Reference(weights, BackendOptions.Managed);
        await using var scope = await EngineScope.StartAsync(identity, weights, new EngineOptions { MaxInFlightPerSession = 3 });
        var tokens = TestModels.RandomSequence(spec, new Random(5), 400);
        await scope.Engine.OpenAsync("a");

        var outputs = await Task.WhenAll(tokens.Select(t => scope.Engine.PushAsync("a", t)));

        Assert.InRange(scope.Engine.Statistics.PeakElementsInPipeline, 1, 3);
        var expected = reference.Run(tokens);
        for (var t = 0; t < tokens.Length; t++)
        {
            Assert.Equal(t + 1, outputs[t].Position);
            Expect.Close(expected.Outputs[t], outputs[t].Output.Span, $"step {t}");
        }
    }

    [Fact]
    public async Task A_refused_token_fails_the_flow_with_its_error()
    {
        await using var scope = await EngineScope.StartAsync(TestModels.Lstm2);
        await scope.Engine.OpenAsync("a");
        var run = Source.From([Token.Vector(new float[5]), Token.Vector(new float[3])])
            .Via(scope.Engine.SessionFlow("a"))
            .RunWith(Sink.Seq<TokenOutput>(), scope.System.Materializer());

        var error = await Assert.ThrowsAsync<Streaming.EngineException>(() => run);
        Assert.Contains("has 3 values; expected input_size 5", error.Message, StringComparison.Ordinal);
    }
}
