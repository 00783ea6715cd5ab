using Streaming;
using Streaming.Cells.Model;
using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Host.Server;
using ClientRequest = Streaming.Client.GenerationRequest;
using ClientSampling = Streaming.Client.SamplingRule;
using ClientStep = Streaming.Client.GenerationStep;

namespace Host.Tests.Server;

/// <summary>Generation over TCP: the Generate frame, its streamed steps and end, cancel, refusals, and its bound on what a connection holds.</summary>
public sealed class GenerationOverTcpTests
{
    /// <summary>Ids through an embedding, an LSTM and a head with one logit per id: a model that generates.</summary>
    private static readonly ModelSpec IdModel = new(
        new RecurrentSpec(RecurrentMode.Lstm, InputSize: 6, HiddenSize: 9, NumLayers: 2),
        new EmbeddingSpec(NumEmbeddings: 20, EmbeddingDim: 6),
        new HeadSpec(OutFeatures: 20));

    /// <summary>
    /// The same with hidden 256: a step takes long enough that a generation of the most steps allowed runs for many
    /// seconds, so a cancel, one round trip after the first step, always lands while it runs (the engine computes steps
    /// ahead of the reader, within the connection's charge).
    /// </summary>
    private static readonly ModelSpec LongRunningModel = IdModel with { Recurrent = IdModel.Recurrent with { HiddenSize = 256 } };

    /// <summary>
    /// A connection reads on (and so reads a CancelGeneration) while what it holds, a generation's charge for every step
    /// it may send included, is under its bound: a bound above the charge of the longest generation.
    /// </summary>
    private static readonly ServerOptions RoomForAWholeGeneration = ServerOptions.Default with { MaxPendingBytesPerConnection = 256 << 20 };

    private static readonly int[] Prompt = [3, 1, 4, 1, 5];

    private static async Task<List<ClientStep>> Collect(IAsyncEnumerable<ClientStep> steps)
    {
        var list = new List<ClientStep>();
        await foreach (var step in steps)
        {
            list.Add(step);
        }

        return list;
    }

    private static async Task<List<Streaming.GenerationStep>> Engine(RecurrentEngine engine, string session, Streaming.GenerationRequest request)
    {
        await engine.OpenAsync(session);
        var list = new List<Streaming.GenerationStep>();
        await foreach (var step in engine.GenerateAsync(session, request))
        {
            list.Add(step);
        }

        return list;
    }

    private static void SameSteps(IReadOnlyList<Streaming.GenerationStep> expected, IReadOnlyList<ClientStep> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Step, actual[i].Step);
            Assert.Equal(expected[i].Position, actual[i].Position);
            Assert.Equal(expected[i].TokenId, actual[i].TokenId);
            Assert.Equal(expected[i].Probability, actual[i].Probability);
            Assert.Equal(expected[i].Top.Select(t => (t.TokenId, t.Probability)), actual[i].Top.Select(t => (t.TokenId, t.Probability)));
        }
    }

    [Fact]
    public async Task A_greedy_generation_over_tcp_streams_exactly_the_engines_steps_and_the_session_goes_on_after_them()
    {
        await using var scope = await ServerScope.StartAsync(IdModel);
        await using var client = await scope.ConnectAsync();
        var expected = await Engine(scope.Engine, "local", Streaming.GenerationRequest.Of(40, Prompt.Select(Token.Id).ToArray()) with { ReportTop = 3 });

        await client.OpenAsync("g");
        var steps = await Collect(client.GenerateAsync("g", ClientRequest.Of(40, Prompt) with { ReportTop = 3 }));

        SameSteps(expected, steps);
        Assert.Equal(Enumerable.Range(0, 40), steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.Equal(3, s.Top.Count));
        var next = await client.PushAsync("g", TokenInput.Id(2));
        var local = await scope.Engine.PushAsync("local", Token.Id(2));
        Assert.Equal(Prompt.Length + 40 + 1, next.Position);
        Assert.Equal(local.Output.ToArray(), next.Output.ToArray());
    }

    [Fact]
    public async Task A_seeded_generation_with_top_k_top_p_and_a_stop_id_over_tcp_is_the_engines()
    {
        await using var scope = await ServerScope.StartAsync(IdModel);
        await using var client = await scope.ConnectAsync();
        var sampling = Streaming.SamplingRule.Random(11, temperature: 0.9, topK: 8, topP: 0.95);
        var stop = new[] { 7 };
        var expected = await Engine(scope.Engine, "local", Streaming.GenerationRequest.Of(300, Prompt.Select(Token.Id).ToArray()) with { Sampling = sampling, StopIds = stop });

        await client.OpenAsync("g");
        var steps = await Collect(client.GenerateAsync("g", ClientRequest.Of(300, Prompt) with
        {
            Sampling = ClientSampling.Random(11, temperature: 0.9, topK: 8, topP: 0.95),
            StopIds = stop,
        }));

        SameSteps(expected, steps);
        if (steps.Count < 300)
        {
            Assert.Equal(7, steps[^1].TokenId);
        }
    }

    public static TheoryData<string, Func<ClientRequest, ClientRequest>, string> BadRequests => new()
    {
        { "temperature 0", r => r with { Sampling = ClientSampling.Random(1, temperature: 0) }, "Temperature" },
        { "top-p above 1", r => r with { Sampling = ClientSampling.Random(1, topP: 1.5) }, "TopP" },
        { "top-p 0", r => r with { Sampling = ClientSampling.Random(1, topP: 0) }, "TopP" },
        { "max steps 0", r => new ClientRequest(0) { Prompt = r.Prompt }, "MaxSteps" },
        { "max steps above the limit", r => new ClientRequest(Streaming.GenerationRequest.MaxStepsLimit + 1) { Prompt = r.Prompt }, "MaxSteps" },
        { "prompt id outside the vocabulary", r => r with { Prompt = [TokenInput.Id(20)] }, "Prompt" },
        { "report top above its limit", r => r with { ReportTop = 65 }, "ReportTop" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task A_bad_parameter_is_refused_over_tcp_with_InvalidInput_naming_the_field_and_the_session_is_untouched(string what, Func<ClientRequest, ClientRequest> spoil, string field)
    {
        await using var scope = await ServerScope.StartAsync(IdModel);
        await using var client = await scope.ConnectAsync();
        await client.OpenAsync("g");
        var error = await Assert.ThrowsAsync<StreamingClientException>(() => Collect(client.GenerateAsync("g", spoil(ClientRequest.Of(5, Prompt)))));

        Assert.True(error.SessionCode == SessionErrorCode.InvalidInput, $"{what}: {error.Code} {error.Message}");
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
        Assert.Equal("g", error.Session);
        Assert.Equal(1, (await client.PushAsync("g", TokenInput.Id(1))).Position);
    }

    [Fact]
    public async Task A_model_that_cannot_generate_is_refused_with_GenerationNotSupported_15()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var client = await scope.ConnectAsync();
        await client.OpenAsync("v");
        var error = await Assert.ThrowsAsync<StreamingClientException>(() => Collect(client.GenerateAsync("v", new ClientRequest(3))));
        Assert.Equal(SessionErrorCode.GenerationNotSupported, error.SessionCode);
        Assert.Equal(15, error.Code);
    }

    [Fact]
    public async Task A_server_whose_sessions_do_not_generate_refuses_with_GenerationNotSupported_saying_cluster_mode()
    {
        await using var scope = await ServerScope.StartAsync(IdModel, serve: engine => new SessionsOnly(engine));
        await using var client = await scope.ConnectAsync();
        await client.OpenAsync("g");
        var error = await Assert.ThrowsAsync<StreamingClientException>(() => Collect(client.GenerateAsync("g", ClientRequest.Of(5, Prompt))));
        Assert.Equal(SessionErrorCode.GenerationNotSupported, error.SessionCode);
        Assert.Contains("generation is not served in cluster mode yet", error.Message, StringComparison.Ordinal);
        Assert.Equal(1, (await client.PushAsync("g", TokenInput.Id(1))).Position);
    }

    [Fact]
    public async Task Cancelling_the_token_stops_the_generation_at_its_next_step_and_every_step_received_was_consumed()
    {
        await using var scope = await ServerScope.StartAsync(LongRunningModel, options: RoomForAWholeGeneration);
        await using var client = await scope.ConnectAsync();
        await client.OpenAsync("g");
        using var cancel = new CancellationTokenSource();
        var steps = new List<ClientStep>();
        await foreach (var step in client.GenerateAsync("g", ClientRequest.Of(Streaming.GenerationRequest.MaxStepsLimit, Prompt), cancel.Token))
        {
            steps.Add(step);
            if (steps.Count == 5)
            {
                await cancel.CancelAsync();
            }
        }

        Assert.InRange(steps.Count, 5, Streaming.GenerationRequest.MaxStepsLimit - 1);
        Assert.Equal(Enumerable.Range(0, steps.Count), steps.Select(s => s.Step));
        var next = await client.PushAsync("g", TokenInput.Id(1));
        Assert.Equal(Prompt.Length + steps.Count + 1, next.Position);
    }

    [Fact]
    public async Task Closing_the_session_from_another_connection_interrupts_the_generation_with_GenerationInterrupted_16()
    {
        await using var scope = await ServerScope.StartAsync(IdModel);
        await using var client = await scope.ConnectAsync();
        await using var other = await scope.ConnectAsync();
        await client.OpenAsync("g");
        var steps = 0;
        var error = await Assert.ThrowsAsync<StreamingClientException>(async () =>
        {
            await foreach (var step in client.GenerateAsync("g", ClientRequest.Of(Streaming.GenerationRequest.MaxStepsLimit, Prompt)))
            {
                if (++steps == 3)
                {
                    _ = other.CloseAsync("g");
                }
            }
        });

        Assert.Equal(SessionErrorCode.GenerationInterrupted, error.SessionCode);
        Assert.Equal(Prompt.Length + steps, error.Position);
        await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("g", TokenInput.Id(1)));
    }

    [Fact]
    public async Task A_cancel_frame_over_a_raw_connection_ends_with_a_GenerationEnd_that_counts_the_steps_sent()
    {
        await using var scope = await ServerScope.StartAsync(LongRunningModel, options: RoomForAWholeGeneration);
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        await raw.SendAsync(new OpenFrame("g", 1));
        Assert.IsType<AckFrame>(await raw.ReadAsync());
        await raw.SendAsync(new GenerateFrame("g", 2, Streaming.GenerationRequest.MaxStepsLimit) { PromptIds = Prompt });
        Assert.IsType<GenerationStepFrame>(await raw.ReadAsync());
        await raw.SendAsync(new CancelGenerationFrame("g", 2));
        var steps = 1;
        Frame? frame;
        while ((frame = await raw.ReadAsync()) is GenerationStepFrame step)
        {
            Assert.Equal(steps++, step.Step);
        }

        var end = Assert.IsType<GenerationEndFrame>(frame);
        Assert.Equal((GenerationEndReason.Cancelled, steps, (long)(Prompt.Length + steps)), (end.Reason, end.Steps, end.Position));
    }

    [Fact]
    public async Task A_client_that_half_closes_gets_its_generation_cancelled_and_answered_before_the_connection_ends()
    {
        await using var scope = await ServerScope.StartAsync(LongRunningModel, options: RoomForAWholeGeneration);
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        await raw.SendAsync(new OpenFrame("g", 1));
        Assert.IsType<AckFrame>(await raw.ReadAsync());
        await raw.SendAsync(new GenerateFrame("g", 2, Streaming.GenerationRequest.MaxStepsLimit) { PromptIds = Prompt });
        Assert.IsType<GenerationStepFrame>(await raw.ReadAsync());
        raw.ShutdownSend();

        var frames = await raw.ReadToEndAsync();
        var end = Assert.IsType<GenerationEndFrame>(frames[^1]);
        Assert.Equal(GenerationEndReason.Cancelled, end.Reason);
        Assert.Equal(end.Steps - 1, frames.Count - 1);
        Assert.All(frames[..^1], f => Assert.IsType<GenerationStepFrame>(f));
    }

    [Fact]
    public async Task A_client_that_does_not_read_a_generation_makes_the_server_hold_no_more_than_the_bound_plus_one_requests_charge()
    {
        const int bound = 64 * 1024;
        await using var scope = await ServerScope.StartAsync(IdModel, options: ServerOptions.Default with { MaxPendingBytesPerConnection = bound });
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        raw.ClosesAfterLastFrame = false;
        await raw.SendAsync(new OpenFrame("g", 1));
        Assert.IsType<AckFrame>(await raw.ReadAsync());

        // Each generation of 2,000 steps with 8 top entries is charged far more than the bound: the server stops reading after the first.
        for (var i = 0; i < 50; i++)
        {
            await raw.SendAsync(new GenerateFrame("g", (ulong)(10 + i), 2_000) { PromptIds = Prompt, ReportTop = 8 });
        }

        await scope.UntilAsync(s => s.ReadPauses > 0, "the server to stop reading the connection");
        var peak = scope.Server.Statistics.PeakPendingBytesPerConnection;
        var charge = new PendingBytes(new FrameCodec(), IdModel).ChargeFor(new GenerateFrame("g", 10, 2_000) { PromptIds = Prompt, ReportTop = 8 });
        Assert.InRange(peak, 1, bound + charge);

        // Reading on, every generation is answered in full, in order.
        for (var i = 0; i < 50; i++)
        {
            var steps = 0;
            Frame? frame;
            while ((frame = await raw.ReadAsync()) is GenerationStepFrame step)
            {
                Assert.Equal((ulong)(10 + i), step.Sequence);
                steps++;
            }

            var end = Assert.IsType<GenerationEndFrame>(frame);
            Assert.Equal((GenerationEndReason.MaxSteps, 2_000, (ulong)(10 + i)), (end.Reason, steps, end.Sequence));
        }

        Assert.InRange(scope.Server.Statistics.PeakPendingBytesPerConnection, 1, bound + charge);
    }
}
