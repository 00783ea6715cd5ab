using Streaming;
using Streaming.Cells.Model;
using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Host.Recording;
using Streaming.Host.Replay;
using Streaming.Host.Server;
using ClientRequest = Streaming.Client.GenerationRequest;
using ClientSampling = Streaming.Client.SamplingRule;
using ClientStep = Streaming.Client.GenerationStep;

namespace Host.Tests.Server;

/// <summary>Generations in recorded live traffic: their ids and how they ended are recorded, and the recording replays exactly.</summary>
public sealed class GenerationRecordingTests : IDisposable
{
    /// <summary>Ids through an embedding, an LSTM and a head with one logit per id: a model that generates ids.</summary>
    private static readonly ModelSpec IdModel = new(
        new RecurrentSpec(RecurrentMode.Lstm, InputSize: 6, HiddenSize: 9, NumLayers: 2),
        new EmbeddingSpec(NumEmbeddings: 20, EmbeddingDim: 6),
        new HeadSpec(OutFeatures: 20));

    /// <summary>
    /// The same with hidden 256: a generation of the most steps allowed runs for seconds, so a cancel one round trip after
    /// a step always lands while it runs.
    /// </summary>
    private static readonly ModelSpec SlowIdModel = IdModel with { Recurrent = IdModel.Recurrent with { HiddenSize = 256 } };

    /// <summary>A GRU whose output is the size of its input: a model that generates vectors.</summary>
    private static readonly ModelSpec VectorModel = new(new RecurrentSpec(RecurrentMode.Gru, InputSize: 4, HiddenSize: 4, NumLayers: 2));

    /// <summary>Room for the charge of a generation of the most steps allowed, so the connection reads its cancel.</summary>
    private static readonly ServerOptions RoomForAWholeGeneration = ServerOptions.Default with { MaxPendingBytesPerConnection = 256 << 20 };

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("traffic-generate-");

    public void Dispose() => _folder.Delete(recursive: true);

    private TrafficRecorder Recorder(ModelSpec spec) =>
        TrafficRecorder.Create(Path.Combine(_folder.FullName, "traffic"), Path.Combine(_folder.FullName, "m.json"), spec, ["*"]);

    private static IReadOnlyList<RecordedOperation> Read(TrafficRecorder recorder)
    {
        recorder.Dispose();
        using var reader = RecordingReader.Open(recorder.Path);
        Assert.Equal(2, reader.Header.Version);
        return reader.ReadToEnd();
    }

    private static async Task<List<ClientStep>> Collect(IAsyncEnumerable<ClientStep> steps)
    {
        var list = new List<ClientStep>();
        await foreach (var step in steps)
        {
            list.Add(step);
        }

        return list;
    }

    private static async Task<ReplayReport> ReplayAsync(ModelSpec spec, IReadOnlyList<RecordedOperation> operations)
    {
        await using var fresh = await ServerScope.StartAsync(spec, options: RoomForAWholeGeneration);
        return await RecordingPlayer.PlayAsync(operations, RecordingHeader.DefaultTolerance, "127.0.0.1", fresh.Port, connections: 2);
    }

    [Fact]
    public async Task Generations_are_recorded_with_their_ids_probabilities_and_end_and_the_recording_replays_with_no_failure()
    {
        var recorder = Recorder(IdModel);
        List<ClientStep> greedy, sampled, stopped;
        await using (var scope = await ServerScope.StartAsync(IdModel, options: new ServerOptions { Recorder = recorder }))
        {
            await using var client = await scope.ConnectAsync();
            await client.OpenAsync("g");
            await client.PushAsync("g", TokenInput.Id(4));
            greedy = await Collect(client.GenerateAsync("g", ClientRequest.Of(12, 3, 1, 4) with { ReportTop = 2 }));
            sampled = await Collect(client.GenerateAsync("g", new ClientRequest(9) { Sampling = ClientSampling.Random(5, temperature: 0.7, topK: 6, topP: 0.9) }));
            // Every id stops it: the generation ends at its first step.
            stopped = await Collect(client.GenerateAsync("g", new ClientRequest(9) { Sampling = ClientSampling.Random(6), StopIds = Enumerable.Range(0, 20).ToArray() }));
            await Assert.ThrowsAsync<StreamingClientException>(() => Collect(client.GenerateAsync("g", new ClientRequest(4) { Sampling = ClientSampling.Random(1, temperature: 0) })));
            await client.PushAsync("g", TokenInput.Id(9));
            await client.SnapshotAsync("g");
            await client.CloseAsync("g");
        }

        var operations = Read(recorder);
        Assert.Equal(["open", "token", "generate", "generate", "generate", "generate", "token", "snapshot", "close"], operations.Select(o => o.Op));
        var generates = operations.OfType<RecordedGenerate>().ToList();
        Assert.Equal(greedy.Select(s => s.TokenId!.Value), generates[0].ExpectTokens!.Value.ToArray());
        Assert.Equal(greedy.Select(s => (float)s.Probability!.Value), generates[0].ExpectProbabilities!.Value.ToArray());
        Assert.Equal((GenerationEndReason.MaxSteps, 12, 3), (generates[0].ExpectEnd, generates[0].MaxSteps, generates[0].PromptSteps));
        Assert.Equal(ClientSampling.Random(5, temperature: 0.7, topK: 6, topP: 0.9), generates[1].Sampling);
        Assert.Equal(sampled.Select(s => s.TokenId!.Value), generates[1].ExpectTokens!.Value.ToArray());
        Assert.Equal((GenerationEndReason.StopId, 1), (generates[2].ExpectEnd, generates[2].ExpectedSteps));
        Assert.Equal(stopped[0].TokenId, generates[2].ExpectTokens!.Value.Span[0]);
        Assert.True(generates[3].ExpectError);
        Assert.Null(generates[3].ExpectEnd);

        var report = await ReplayAsync(IdModel, operations);
        Assert.True(report.Failed == 0, string.Join("\n", report.Failures));
        Assert.Equal(operations.Count, report.Passed);
    }

    [Fact]
    public async Task A_cancelled_generation_is_recorded_with_the_steps_it_sent_and_replays_as_exactly_those_steps()
    {
        var recorder = Recorder(SlowIdModel);
        var steps = new List<ClientStep>();
        await using (var scope = await ServerScope.StartAsync(SlowIdModel, options: RoomForAWholeGeneration with { Recorder = recorder }))
        {
            await using var client = await scope.ConnectAsync();
            await client.OpenAsync("c");
            using var cancel = new CancellationTokenSource();
            await foreach (var step in client.GenerateAsync("c", ClientRequest.Of(Streaming.GenerationRequest.MaxStepsLimit, 1, 2), cancel.Token))
            {
                steps.Add(step);
                if (steps.Count == 3)
                {
                    await cancel.CancelAsync();
                }
            }

            // Its output depends on every generated token the session consumed.
            await client.PushAsync("c", TokenInput.Id(5));
        }

        var operations = Read(recorder);
        var generate = Assert.IsType<RecordedGenerate>(operations[1]);
        Assert.Equal((GenerationEndReason.Cancelled, Streaming.GenerationRequest.MaxStepsLimit), (generate.ExpectEnd, generate.MaxSteps));
        Assert.Equal(steps.Select(s => s.TokenId!.Value), generate.ExpectTokens!.Value.ToArray());
        Assert.NotNull(Assert.IsType<RecordedToken>(operations[2]).Expect);

        var report = await ReplayAsync(SlowIdModel, operations);
        Assert.True(report.Failed == 0, string.Join("\n", report.Failures));
        Assert.Equal(operations.Count, report.Passed);
    }

    [Fact]
    public async Task A_vector_generation_is_recorded_with_the_vectors_it_fed_back_and_replays_with_no_failure()
    {
        var recorder = Recorder(VectorModel);
        List<ClientStep> steps;
        await using (var scope = await ServerScope.StartAsync(VectorModel, options: new ServerOptions { Recorder = recorder }))
        {
            await using var client = await scope.ConnectAsync();
            await client.OpenAsync("v");
            var prompt = new[] { TokenInput.Vector(new[] { 0.5f, -0.25f, 1f, 0f }), TokenInput.Vector(new[] { 0.1f, 0.2f, 0.3f, 0.4f }) };
            steps = await Collect(client.GenerateAsync("v", new ClientRequest(5) { Prompt = prompt }));
            await client.PushAsync("v", TokenInput.Vector(new[] { 1f, 1f, 1f, 1f }));
        }

        var operations = Read(recorder);
        var generate = Assert.IsType<RecordedGenerate>(operations[1]);
        Assert.Equal((2, 4), (generate.PromptInputs!.Rows, generate.PromptInputs.Columns));
        Assert.Null(generate.ExpectTokens);
        Assert.Equal(GenerationEndReason.MaxSteps, generate.ExpectEnd);
        Assert.Equal(steps.SelectMany(s => s.Output.ToArray()), generate.ExpectOutputs!.Values.ToArray());

        var report = await ReplayAsync(VectorModel, operations);
        Assert.True(report.Failed == 0, string.Join("\n", report.Failures));
        Assert.Equal(operations.Count, report.Passed);
    }

    private static GenerationStepFrame Step(int step, int id) => new("s", 1, step, step + 3) { TokenId = id, Probability = 0.25 };

    private static readonly OutputFrame Output = new("s", 2, 0, new[] { 0.5f });

    [Fact]
    public void A_generation_stopped_before_its_first_step_with_a_prompt_leaves_the_sessions_expectations_out_until_its_state_is_set_again()
    {
        var recorder = Recorder(IdModel);
        var prompt = new GenerateFrame("s", 1, 10) { PromptIds = new[] { 1, 2 } };
        recorder.Record(new OpenFrame("s", 0), true, [new AckFrame("s", 0, FrameType.Open)]);
        recorder.Record(prompt, true, [new GenerationEndFrame("s", 1, GenerationEndReason.Cancelled, 0, 0)]);
        recorder.Record(TokenFrame.OfId("s", 2, 3), true, [Output]);
        recorder.Record(new GenerateFrame("s", 3, 2), true, [Step(0, 4), Step(1, 5), new GenerationEndFrame("s", 3, GenerationEndReason.MaxSteps, 2, 5)]);
        recorder.Record(new ResetFrame("s", 4), true, [new AckFrame("s", 4, FrameType.Reset)]);
        recorder.Record(TokenFrame.OfId("s", 5, 3), true, [Output]);

        var operations = Read(recorder);

        var stopped = Assert.IsType<RecordedGenerate>(operations[1]);
        Assert.Equal((GenerationEndReason.Cancelled, 0), (stopped.ExpectEnd, stopped.ExpectedSteps));
        Assert.Null(Assert.IsType<RecordedToken>(operations[2]).Expect);
        Assert.Null(Assert.IsType<RecordedGenerate>(operations[3]).ExpectEnd);
        Assert.Equal("reset", operations[4].Op);
        Assert.Equal(new[] { 0.5f }, Assert.IsType<RecordedToken>(operations[5]).Expect!.Value.ToArray());
    }

    [Fact]
    public void A_generation_without_a_prompt_stopped_before_its_first_step_consumed_nothing_and_the_session_keeps_its_expectations()
    {
        var recorder = Recorder(IdModel);
        recorder.Record(new GenerateFrame("s", 1, 10), true, [new GenerationEndFrame("s", 1, GenerationEndReason.Cancelled, 0, 0)]);
        recorder.Record(TokenFrame.OfId("s", 2, 3), true, [Output]);

        var operations = Read(recorder);

        Assert.Equal(0, Assert.IsType<RecordedGenerate>(operations[0]).ExpectedSteps);
        Assert.NotNull(Assert.IsType<RecordedToken>(operations[1]).Expect);
    }

    [Fact]
    public void A_generation_ended_by_an_error_after_some_steps_is_recorded_interrupted_with_those_steps_and_one_refused_before_any_step_expects_an_error()
    {
        var recorder = Recorder(IdModel);
        var failure = new ErrorFrame("s", 1, (ushort)SessionErrorCode.EngineStopped, "stopping");
        recorder.Record(new GenerateFrame("s", 1, 10), false, [Step(0, 7), Step(1, 8), failure]);
        recorder.Record(new GenerateFrame("s", 2, 10) { Random = true, Temperature = -1 }, false, [failure with { Code = (ushort)SessionErrorCode.InvalidInput }]);
        // JSON has no NaN: the refused request has no form in the file.
        recorder.Record(new GenerateFrame("s", 3, 10) { Random = true, Temperature = double.NaN }, false, [failure with { Code = (ushort)SessionErrorCode.InvalidInput }]);
        recorder.Record(new GenerateFrame("s", 4, 1), true, [Step(0, 9), new GenerationEndFrame("s", 4, GenerationEndReason.Interrupted, 1, 4)]);

        var operations = Read(recorder).Cast<RecordedGenerate>().ToList();

        Assert.Equal(3, operations.Count);
        Assert.Equal((GenerationEndReason.Interrupted, false), (operations[0].ExpectEnd, operations[0].ExpectError));
        Assert.Equal(new[] { 7, 8 }, operations[0].ExpectTokens!.Value.ToArray());
        Assert.Equal(new[] { 0.25f, 0.25f }, operations[0].ExpectProbabilities!.Value.ToArray());
        Assert.True(operations[1].ExpectError);
        Assert.Equal(-1, operations[1].Sampling.Temperature);
        Assert.Equal((GenerationEndReason.Interrupted, 9), (operations[2].ExpectEnd, operations[2].ExpectTokens!.Value.Span[0]));
    }
}
