using Akka.Streams.Dsl;
using Streaming.Cells.Backends;
using Streaming.Persistence;
using Streaming.TestSupport;
using Streaming.Tests.Engine;

namespace Streaming.Tests.Generation;

/// <summary>A generation is a session operation: what it leaves behind, and how it meets the session's other operations and its lifecycle.</summary>
public sealed class GenerationSessionTests
{
    private const double Tolerance = 1e-5;

    public static TheoryData<BackendKind, int> PromptLengths()
    {
        var data = new TheoryData<BackendKind, int>();
        foreach (var backend in new[] { BackendKind.Managed, BackendKind.Torch })
        {
            // None (from the last output), token by token, and in bulk.
            foreach (var length in new[] { 0, 3, 12 })
            {
                data.Add(backend, length);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PromptLengths))]
    public async Task Afterwards_the_session_is_as_if_the_prompt_and_the_generated_ids_had_been_pushed_one_by_one(BackendKind backend, int promptLength)
    {
        await using var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights, Generations.On(backend));
        var before = CharModel.Prompt("Once ");
        var prompt = CharModel.Prompt("upon a time there")[..promptLength];
        await scope.Engine.OpenAsync("a");
        TokenOutput? last = null;
        foreach (var token in before)
        {
            last = await scope.Engine.PushAsync("a", token);
        }

        var steps = await scope.Engine.CollectAsync("a", GenerationRequest.Of(30, prompt) with { Sampling = SamplingRule.Random(11) });
        var snapshot = await scope.Engine.SnapshotAsync("a");

        var consumed = before.Concat(prompt).Concat(steps.Ids().Select(Token.Id)).ToArray();
        var (logits, (h, c)) = Float64Generator.Consume(CharModel.Weights, consumed.Select(t => t.TokenId).ToArray());
        Assert.Equal(30, steps.Count);
        Assert.Equal(consumed.Length, snapshot.Position);
        Assert.Equal(consumed.Length, steps[^1].Position);
        AssertClose(h, snapshot.Layers.SelectMany(l => l.H.ToArray()).ToArray());
        // c is not bounded (here up to about 40, where one fp32 ulp is 4e-6): its error is relative to its size.
        AssertClose(c, snapshot.Layers.SelectMany(l => l.C.ToArray()).ToArray(), relative: true);

        // The same tokens pushed one by one into another session of the engine: the same state, bit for bit when the
        // prompt ran token by token (the same step kernel), within the tolerance when it ran in bulk.
        await scope.Engine.OpenAsync("b");
        foreach (var token in consumed)
        {
            await scope.Engine.PushAsync("b", token);
        }

        var pushed = await scope.Engine.SnapshotAsync("b");
        Assert.Equal(pushed.Position, snapshot.Position);
        for (var layer = 0; layer < pushed.Layers.Count; layer++)
        {
            if (promptLength < 8)
            {
                Assert.Equal(pushed.Layers[layer].H.ToArray(), snapshot.Layers[layer].H.ToArray());
                Assert.Equal(pushed.Layers[layer].C.ToArray(), snapshot.Layers[layer].C.ToArray());
            }
            else
            {
                AssertClose(pushed.Layers[layer].H.ToArray().Select(v => (double)v).ToArray(), snapshot.Layers[layer].H.ToArray());
                AssertClose(pushed.Layers[layer].C.ToArray().Select(v => (double)v).ToArray(), snapshot.Layers[layer].C.ToArray(), relative: true);
            }
        }

        // Each step was picked from the output after the token before it.
        for (var t = 0; t < steps.Count; t++)
        {
            AssertClose(logits[before.Length + prompt.Length + t], steps[t].Output.ToArray());
        }

        if (promptLength == 0)
        {
            AssertClose(logits[before.Length], last!.Output.ToArray());
        }

        // And it goes on streaming from there.
        var next = await scope.Engine.PushAsync("a", Token.Id(5));
        Assert.Equal(consumed.Length + 1, next.Position);
        AssertClose(Float64Generator.Consume(CharModel.Weights, [.. consumed.Select(t => t.TokenId), 5]).Logits[^1], next.Output.ToArray());
    }

    [Theory]
    [InlineData(BackendKind.Managed)]
    [InlineData(BackendKind.Torch)]
    public async Task A_session_restored_from_a_snapshot_generates_the_same_ids_for_the_same_seed(BackendKind backend)
    {
        var request = GenerationRequest.Of(60) with { Sampling = SamplingRule.Random(42) with { TopK = 30, Temperature = 0.9 } };
        byte[] saved;
        int[] original;
        await using (var first = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights, Generations.On(backend)))
        {
            await first.Engine.OpenAsync("a");
            await first.Engine.ReplayAsync("a", CharModel.Prompt("The old man and the "));
            saved = (await first.Engine.SnapshotAsync("a")).ToBytes();
            original = (await first.Engine.CollectAsync("a", request)).Ids();
        }

        await using var second = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights, Generations.On(backend));
        await second.Engine.RestoreAsync("b", SessionSnapshot.FromBytes(saved));
        var restored = await second.Engine.CollectAsync("b", request);

        Assert.Equal(original, restored.Ids());
        Assert.Equal(20 + 60, restored[^1].Position);
    }

    [Fact]
    public async Task A_generation_stops_at_the_first_stop_id_which_is_delivered_and_consumed()
    {
        await using var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights);
        await scope.Engine.OpenAsync("a");
        var prompt = CharModel.Prompt("The ");
        var space = CharModel.Vocabulary.Encode(" ")[0];
        var period = CharModel.Vocabulary.Encode(".")[0];

        var steps = await scope.Engine.CollectAsync("a", GenerationRequest.Of(500, prompt) with { StopIds = [space, period] });

        var unstopped = Float64Generator.Run(CharModel.Weights, prompt.Select(t => t.TokenId).ToArray(), 500, SamplingRule.Greedy);
        var firstStop = Array.FindIndex(unstopped.Ids, id => id == space || id == period);
        Assert.InRange(firstStop, 1, 30);
        Assert.Equal(unstopped.Ids[..(firstStop + 1)], steps.Ids());
        Assert.Equal(prompt.Length + firstStop + 1, (await scope.Engine.SnapshotAsync("a")).Position);
    }

    [Fact]
    public async Task Cancelling_stops_the_generation_at_its_next_step_and_every_step_delivered_was_consumed()
    {
        await using var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights);
        await scope.Engine.OpenAsync("a");
        var prompt = CharModel.Prompt("In the ");
        using var cancel = new CancellationTokenSource();
        var delivered = new List<GenerationStep>();

        await foreach (var step in scope.Engine.GenerateAsync("a", GenerationRequest.Of(GenerationRequest.MaxStepsLimit, prompt), cancel.Token))
        {
            delivered.Add(step);
            if (delivered.Count == 5)
            {
                await cancel.CancelAsync();
            }
        }

        var snapshot = await scope.Engine.SnapshotAsync("a");
        Assert.InRange(delivered.Count, 5, GenerationRequest.MaxStepsLimit - 1);
        Assert.Equal(prompt.Length + delivered.Count, snapshot.Position);
        var (_, (h, _)) = Float64Generator.Consume(CharModel.Weights, [.. prompt.Select(t => t.TokenId), .. delivered.Ids()]);
        AssertClose(h, snapshot.Layers.SelectMany(l => l.H.ToArray()).ToArray());
    }

    [Fact]
    public async Task A_consumer_that_stops_reading_early_stops_the_generation_through_the_enumerator_or_the_stream()
    {
        await using var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights);
        await scope.Engine.OpenAsync("a");
        var request = GenerationRequest.Of(GenerationRequest.MaxStepsLimit, CharModel.Prompt("A "));

        await foreach (var step in scope.Engine.GenerateAsync("a", request))
        {
            if (step.Step == 3)
            {
                break;
            }
        }

        // The push waits behind the generation, which stopped at its next step rather than running 65,536 of them.
        var afterEnumerator = await scope.Engine.PushAsync("a", Token.Id(1));
        Assert.InRange(afterEnumerator.Position, 2 + 4 + 1, 2 + 1000);

        var materializer = Akka.Streams.ActorMaterializer.Create(scope.System);
        var taken = await scope.Engine.Generate("a", request with { Prompt = [] }).Take(4).RunWith(Sink.Seq<GenerationStep>(), materializer);
        Assert.Equal(4, taken.Count);
        var afterStream = await scope.Engine.PushAsync("a", Token.Id(1));
        Assert.InRange(afterStream.Position, afterEnumerator.Position + 4 + 1, afterEnumerator.Position + 1000);
    }

    [Fact]
    public async Task Operations_sent_during_a_generation_apply_after_it_in_order()
    {
        await using var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights);
        await scope.Engine.OpenAsync("a");
        var generation = scope.Engine.CollectAsync("a", GenerationRequest.Of(50, CharModel.Prompt("We ")));
        var push = scope.Engine.PushAsync("a", Token.Id(40));
        var snapshot = scope.Engine.SnapshotAsync("a");

        var steps = await generation;
        Assert.Equal(3 + 50 + 1, (await push).Position);
        Assert.Equal(3 + 50 + 1, (await snapshot).Position);
        Assert.Equal(50, steps.Count);
    }

    [Fact]
    public async Task A_close_while_generating_stops_it_with_GenerationInterrupted_and_the_close_applies()
    {
        await using var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights);
        await scope.Engine.OpenAsync("a");
        var delivered = new List<GenerationStep>();
        Task? close = null;

        var error = await Assert.ThrowsAsync<EngineException>(async () =>
        {
            await foreach (var step in scope.Engine.GenerateAsync("a", GenerationRequest.Of(GenerationRequest.MaxStepsLimit, CharModel.Prompt("He "))))
            {
                delivered.Add(step);
                close ??= scope.Engine.CloseAsync("a");
            }
        });

        Assert.Equal(EngineErrorCode.GenerationInterrupted, error.Code);
        Assert.Equal(3 + delivered.Count, error.Position);
        Assert.Contains("a close of the session", error.Message, StringComparison.Ordinal);
        await close!;
        var unknown = await Assert.ThrowsAsync<EngineException>(() => scope.Engine.PushAsync("a", Token.Id(1)));
        Assert.Equal(EngineErrorCode.UnknownSession, unknown.Code);
    }

    [Fact]
    public async Task A_shutdown_while_generating_stops_it_and_saves_the_session_at_the_last_step_delivered()
    {
        var store = new InMemorySnapshotStore();
        var options = new EngineOptions { Store = store };
        var delivered = new List<GenerationStep>();
        EngineException? error = null;
        await using (var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights, options))
        {
            await scope.Engine.OpenAsync("a");
            ValueTask? shutdown = null;
            try
            {
                await foreach (var step in scope.Engine.GenerateAsync("a", GenerationRequest.Of(GenerationRequest.MaxStepsLimit, CharModel.Prompt("So "))))
                {
                    delivered.Add(step);
                    shutdown ??= scope.Engine.DisposeAsync();
                }
            }
            catch (EngineException e)
            {
                error = e;
            }

            await shutdown!.Value;
        }

        Assert.Equal(EngineErrorCode.GenerationInterrupted, error?.Code);
        Assert.Equal(3 + delivered.Count, error!.Position);
        await using var resumed = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights, options);
        Assert.Equal(3 + delivered.Count, (await resumed.Engine.SnapshotAsync("a")).Position);
    }

    [Fact]
    public async Task An_eviction_while_generating_stops_it_and_the_session_moves_out_at_the_last_step_delivered()
    {
        await using var scope = await EngineScope.StartAsync(CharModel.Identity, CharModel.Weights);
        await scope.Engine.OpenAsync("a");
        var delivered = new List<GenerationStep>();
        Task<bool>? eviction = null;

        var error = await Assert.ThrowsAsync<EngineException>(async () =>
        {
            await foreach (var step in scope.Engine.GenerateAsync("a", GenerationRequest.Of(GenerationRequest.MaxStepsLimit, CharModel.Prompt("An "))))
            {
                delivered.Add(step);
                eviction ??= scope.Engine.EvictAsync("a");
            }
        });

        Assert.Equal(EngineErrorCode.GenerationInterrupted, error.Code);
        Assert.Contains("an eviction", error.Message, StringComparison.Ordinal);
        Assert.True(await eviction!);
        Assert.Equal(0, scope.Engine.Statistics.SessionsOpen);
        // Its next operation loads it from the store, where it was saved at the last step delivered.
        Assert.Equal(3 + delivered.Count, (await scope.Engine.SnapshotAsync("a")).Position);
    }

    [Fact]
    public async Task A_vector_model_whose_output_is_its_input_feeds_each_output_back()
    {
        var spec = new Cells.Model.ModelSpec(new Cells.Model.RecurrentSpec(Cells.Model.RecurrentMode.Gru, InputSize: 6, HiddenSize: 6, NumLayers: 2));
        var (identity, weights) = TestModels.Create(spec, seed: 4);
        await using var scope = await EngineScope.StartAsync(identity, weights);
        await scope.Engine.OpenAsync("a");
        var prompt = TestModels.RandomSequence(spec, new Random(3), 4);

        var steps = await scope.Engine.CollectAsync("a", GenerationRequest.Of(12, prompt));

        using var reference = new Reference(weights, BackendOptions.Managed);
        var sequence = prompt.ToList();
        for (var t = 0; t < 12; t++)
        {
            var expected = reference.Run(sequence).Outputs[^1];
            AssertClose(expected, steps[t].Output.ToArray());
            Assert.Null(steps[t].TokenId);
            sequence.Add(Token.Vector(steps[t].Output.ToArray()));
        }

        Assert.Equal(4 + 12, (await scope.Engine.SnapshotAsync("a")).Position);
    }

    private static void AssertClose(double[] expected, float[] actual, bool relative = false)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var tolerance = relative ? Tolerance * Math.Max(1, Math.Abs(expected[i])) : Tolerance;
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance, $"index {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= Tolerance, $"index {i}: expected {expected[i]}, got {actual[i]}");
        }
    }
}
