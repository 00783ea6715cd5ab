using Akka.Actor;
using Akka.Configuration;
using Streaming;
using Streaming.Cells.Backends;
using Streaming.Client.Protocol;
using Streaming.Host.Recording;
using Streaming.Host.Replay;
using Streaming.Host.Server;

namespace Host.Tests.Replay;

/// <summary>
/// Every recording in tests/recordings (made from libtorch's bulk calls, and generated ids from the float64 reference)
/// replays over TCP with every expectation met, on both backends.
/// </summary>
public sealed class RecordingReplayTests
{
    public static TheoryData<string, BackendKind> RecordingsOnBothBackends()
    {
        var data = new TheoryData<string, BackendKind>();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "recordings"), "*.jsonl").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file), BackendKind.Managed);
            data.Add(Path.GetFileName(file), BackendKind.Torch);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RecordingsOnBothBackends))]
    public async Task A_recording_replays_over_tcp_with_every_expectation_met(string recording, BackendKind backend)
    {
        using var reader = RecordingReader.Open(Path.Combine(AppContext.BaseDirectory, "recordings", recording));
        var operations = reader.ReadToEnd();
        using var system = ActorSystem.Create("replay-test", ConfigurationFactory.ParseString("akka.loglevel = WARNING"));
        try
        {
            await using var engine = await RecurrentEngine.StartAsync(system, reader.ModelManifestPath, EngineOptions.Default with { Backend = new BackendOptions(backend) });
            await using var server = await StreamingServer.StartAsync(system, engine, ServerOptions.Default with { Port = 0 });
            var report = await RecordingPlayer.PlayAsync(operations, reader.Header.Tolerance, "127.0.0.1", server.Endpoint.Port, connections: 3);
            Assert.True(report.Failed == 0, string.Join('\n', report.Failures.Take(20)));
            Assert.Equal(operations.Count, report.Passed);
        }
        finally
        {
            await system.Terminate();
        }
    }

    [Fact]
    public void The_shipped_recordings_expect_the_ids_of_greedy_and_sampled_generations_with_prompts_stop_ids_and_restored_sessions()
    {
        var generates = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "recordings"), "*.jsonl")
            .SelectMany(file =>
            {
                using var reader = RecordingReader.Open(file);
                Assert.Equal(RecordingHeader.LatestVersion, reader.Header.Version);
                var operations = reader.ReadToEnd();
                // A generate right after an open from a given state runs on a restored session (the format's restore).
                return operations.OfType<RecordedGenerate>().Select(g => (Generate: g, Restored: operations.TakeWhile(o => o != g).LastOrDefault(o => o.Session == g.Session) is RecordedOpen { H0: not null }));
            })
            .ToList();
        var expected = generates.Where(g => g.Generate.ExpectTokens is not null).ToList();

        Assert.Contains(expected, g => g.Generate.Sampling.IsGreedy && g.Generate.PromptSteps > 0);
        Assert.Contains(expected, g => g.Generate.Sampling.IsGreedy && g.Generate.PromptSteps == 0);
        Assert.Contains(expected, g => g.Generate.Sampling is { IsGreedy: false, TopK: not null, TopP: < 1 } && g.Generate.Sampling.Temperature != 1);
        Assert.Contains(expected, g => g.Generate.Sampling is { IsGreedy: false, TopK: null, TopP: < 1 });
        Assert.Contains(expected, g => g.Generate.PromptSteps >= 8);
        Assert.Contains(expected, g => g.Generate.ExpectEnd == GenerationEndReason.StopId && g.Generate.ExpectedSteps > 1);
        Assert.Contains(expected, g => g.Generate.ExpectEnd == GenerationEndReason.MaxSteps);
        Assert.Contains(expected, g => g.Restored);
        Assert.All(expected, g => Assert.Equal(g.Generate.ExpectedSteps, g.Generate.ExpectProbabilities?.Length));
        Assert.Contains(generates, g => g.Generate.ExpectOutputs is not null && g.Restored);
        Assert.Contains(generates, g => g.Generate.ExpectError);
    }
}
