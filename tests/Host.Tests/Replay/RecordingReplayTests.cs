using Akka.Actor;
using Akka.Configuration;
using Streaming;
using Streaming.Cells.Backends;
using Streaming.Host.Recording;
using Streaming.Host.Replay;
using Streaming.Host.Server;

namespace Host.Tests.Replay;

/// <summary>Every recording in tests/recordings (made from libtorch's bulk calls) replays over TCP with every expectation met.</summary>
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
}
