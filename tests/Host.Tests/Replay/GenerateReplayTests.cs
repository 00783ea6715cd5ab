using Host.Tests.Server;
using Streaming.Cells.Model;
using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Host.Recording;
using Streaming.Host.Replay;
using ClientRequest = Streaming.Client.GenerationRequest;
using ClientStep = Streaming.Client.GenerationStep;

namespace Host.Tests.Replay;

/// <summary>What the player checks of a recorded generate, and how it reports what differs.</summary>
public sealed class GenerateReplayTests
{
    private static readonly ModelSpec IdModel = new(
        new RecurrentSpec(RecurrentMode.Gru, InputSize: 5, HiddenSize: 7, NumLayers: 1),
        new EmbeddingSpec(NumEmbeddings: 16, EmbeddingDim: 5),
        new HeadSpec(OutFeatures: 16));

    private static async Task<List<ClientStep>> TruthAsync(ServerScope scope, ClientRequest request)
    {
        await using var client = await scope.ConnectAsync();
        await client.OpenAsync("truth");
        var steps = new List<ClientStep>();
        await foreach (var step in client.GenerateAsync("truth", request))
        {
            steps.Add(step);
        }

        return steps;
    }

    private static Task<ReplayReport> PlayAsync(ServerScope scope, params RecordedOperation[] operations) =>
        RecordingPlayer.PlayAsync(operations, RecordingHeader.DefaultTolerance, "127.0.0.1", scope.Port, connections: 1);

    private static RecordedGenerate Generate(int maxSteps, IReadOnlyList<ClientStep> steps) => new(3, "g", maxSteps)
    {
        PromptTokens = new[] { 1, 2 },
        ExpectTokens = steps.Select(s => s.TokenId!.Value).ToArray(),
        ExpectProbabilities = steps.Select(s => (float)s.Probability!.Value).ToArray(),
        ExpectEnd = GenerationEndReason.MaxSteps,
    };

    [Fact]
    public async Task A_generate_whose_ids_differ_from_the_recording_fails_naming_the_first_step_that_differs_and_the_ids_from_there()
    {
        await using var scope = await ServerScope.StartAsync(IdModel);
        var truth = await TruthAsync(scope, ClientRequest.Of(6, 1, 2));
        var ids = truth.Select(s => s.TokenId!.Value).ToArray();
        var wrong = ids.ToArray();
        wrong[2] = (wrong[2] + 1) % 16;

        var report = await PlayAsync(scope, new RecordedOpen(2, "g"), Generate(6, truth) with { ExpectTokens = wrong });

        Assert.Equal((1, 1), (report.Passed, report.Failed));
        Assert.Equal(
            $"session 'g', line 3 (generate): step 2: expected id {wrong[2]}, got {ids[2]} (from step 2: expected [{string.Join(", ", wrong[2..])}], got [{string.Join(", ", ids[2..])}])",
            report.Failures[0]);
    }

    [Fact]
    public async Task A_generate_whose_ids_match_passes_and_its_probabilities_must_hold_within_the_tolerance()
    {
        await using var scope = await ServerScope.StartAsync(IdModel);
        var truth = await TruthAsync(scope, ClientRequest.Of(5, 1, 2));
        var off = truth.Select(s => (float)s.Probability!.Value).ToArray();
        off[1] += 0.01f;

        var report = await PlayAsync(scope,
            new RecordedOpen(2, "g"), Generate(5, truth),
            new RecordedOpen(4, "h"), Generate(5, truth) with { Line = 5, Session = "h", ExpectProbabilities = off });

        Assert.Equal((3, 1), (report.Passed, report.Failed));
        Assert.StartsWith("session 'h', line 5 (generate): probability[1]: expected ", report.Failures[0], StringComparison.Ordinal);
        Assert.Contains("> tolerance 1.0E-004", report.Failures[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_generation_recorded_as_cancelled_takes_exactly_its_recorded_steps_so_the_session_goes_on_from_there()
    {
        await using var scope = await ServerScope.StartAsync(IdModel);
        var truth = await TruthAsync(scope, ClientRequest.Of(3, 1, 2));
        await using var client = await scope.ConnectAsync();
        var after = await client.PushAsync("truth", TokenInput.Id(9));

        var report = await PlayAsync(scope,
            new RecordedOpen(2, "g"),
            Generate(1000, truth) with { ExpectEnd = GenerationEndReason.Cancelled },
            RecordedToken.OfId(4, "g", 9) with { Expect = after.Output });

        Assert.True(report.Failed == 0, string.Join("\n", report.Failures));
        Assert.Equal(3, report.Passed);
    }

    [Fact]
    public async Task A_generation_recorded_as_stopped_before_its_first_step_consumes_its_prompt()
    {
        await using var scope = await ServerScope.StartAsync(IdModel);
        await using var client = await scope.ConnectAsync();
        await client.OpenAsync("truth");
        await client.PushAsync("truth", TokenInput.Id(1));
        await client.PushAsync("truth", TokenInput.Id(2));
        var after = await client.PushAsync("truth", TokenInput.Id(9));

        var report = await PlayAsync(scope,
            new RecordedOpen(2, "g"),
            new RecordedGenerate(3, "g", 50) { PromptTokens = new[] { 1, 2 }, ExpectTokens = Array.Empty<int>(), ExpectEnd = GenerationEndReason.Interrupted },
            RecordedToken.OfId(4, "g", 9) with { Expect = after.Output },
            new RecordedOpen(5, "h"),
            new RecordedGenerate(6, "h", 50) { ExpectTokens = Array.Empty<int>(), ExpectEnd = GenerationEndReason.Cancelled },
            new RecordedSnapshot(7, "h", FloatMatrix.FromRows(new float[7]), null));

        Assert.True(report.Failed == 0, string.Join("\n", report.Failures));
        Assert.Equal(6, report.Passed);
    }
}
