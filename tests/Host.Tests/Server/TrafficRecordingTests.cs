using System.Text.Json;
using Streaming;
using Streaming.Cells.Weights;
using Streaming.Client;
using Streaming.Host.Recording;
using Streaming.Host.Replay;
using Streaming.Host.Server;

namespace Host.Tests.Server;

/// <summary>Recorded live traffic is a recording that replays exactly against the same model.</summary>
public sealed class TrafficRecordingTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("traffic-");

    public void Dispose() => _folder.Delete(recursive: true);

    /// <summary>The scope's model as files, so the recording's header can name it.</summary>
    private string WriteManifest(ModelWeights weights)
    {
        Safetensors.Write(Path.Combine(_folder.FullName, "small.safetensors"), weights.ToTensors());
        var manifest = Path.Combine(_folder.FullName, "small.json");
        File.WriteAllText(manifest, JsonSerializer.Serialize(new
        {
            name = "small",
            weights = "small.safetensors",
            recurrent = new { mode = "LSTM", input_size = 3, hidden_size = 5, num_layers = 2 },
        }));
        return manifest;
    }

    [Fact]
    public async Task Chosen_sessions_are_recorded_in_order_with_the_servers_answers_and_the_recording_replays_with_no_failure()
    {
        var weights = ModelWeights.CreateRandom(ServerScope.SmallLstm, seed: 7);
        var manifest = WriteManifest(weights);
        var recorder = TrafficRecorder.Create(Path.Combine(_folder.FullName, "traffic"), manifest, ServerScope.SmallLstm, ["rec-*", "exact"]);
        await using (var scope = await ServerScope.StartAsync(options: new ServerOptions { Recorder = recorder }))
        {
            await using var client = await scope.ConnectAsync();
            float[][] inputs = [[0.1f, 0.2f, 0.3f], [-0.5f, 0.25f, 1f], [0.7f, -0.1f, 0f]];
            await client.OpenAsync("rec-1", new StartState(new float[10].Select((_, i) => i * 0.05f).ToArray(), ReadOnlyMemory<float>.Empty));
            await client.OpenAsync("exact");
            await client.OpenAsync("ignored");
            var pushes = inputs.Select(x => client.PushAsync("rec-1", TokenInput.Vector(x))).ToList();
            var refused = client.PushAsync("rec-1", TokenInput.Vector(new[] { 1f, float.NaN, 0f }));
            await client.PushAsync("ignored", TokenInput.Vector(inputs[0]));
            await Task.WhenAll(pushes);
            await Assert.ThrowsAsync<StreamingClientException>(() => refused);
            await client.ReplayAsync("exact", inputs.Select(x => TokenInput.Vector(x)).ToList());
            var snapshot = await client.SnapshotAsync("rec-1");
            await client.RestoreAsync("exact", snapshot);
            await client.PushAsync("exact", TokenInput.Vector(inputs[2]));
            await client.ResetAsync("rec-1");
            await client.PushAsync("rec-1", TokenInput.Vector(inputs[1]));
            await client.CloseAsync("rec-1");
            await Assert.ThrowsAsync<StreamingClientException>(() => client.SnapshotAsync("rec-1"));
        }

        recorder.Dispose();
        using var reader = RecordingReader.Open(recorder.Path);
        var operations = reader.ReadToEnd();
        Assert.Equal(manifest, reader.ModelManifestPath);
        Assert.DoesNotContain(operations, o => o.Session == "ignored");
        var rec = operations.Where(o => o.Session == "rec-1").Select(o => (o.Op, o.ExpectError)).ToList();
        Assert.Equal(
            [("open", false), ("token", false), ("token", false), ("token", false), ("token", true), ("snapshot", false), ("reset", false), ("token", false), ("close", false), ("snapshot", true)],
            rec);
        Assert.Equal(["open", "replay", "close", "open", "token"], operations.Where(o => o.Session == "exact").Select(o => o.Op));
        Assert.NotNull(((RecordedSnapshot)operations.First(o => o is RecordedSnapshot { ExpectError: false })).ExpectC);

        await using var fresh = await ServerScope.StartAsync();
        var report = await RecordingPlayer.PlayAsync(operations, reader.Header.Tolerance, "127.0.0.1", fresh.Port, connections: 2);
        Assert.True(report.Failed == 0, string.Join("\n", report.Failures));
        Assert.Equal(operations.Count, report.Passed);
    }

    [Theory]
    [InlineData("*", "anything", true)]
    [InlineData("chat-*", "chat-7", true)]
    [InlineData("chat-*", "chat", false)]
    [InlineData("a", "a", true)]
    [InlineData("a", "ab", false)]
    public void A_session_is_recorded_when_it_equals_an_id_or_starts_with_a_prefix_ending_in_a_star(string pattern, string session, bool recorded)
    {
        using var recorder = TrafficRecorder.Create(_folder.FullName, Path.Combine(_folder.FullName, "m.json"), ServerScope.SmallLstm, [pattern]);
        Assert.Equal(recorded, recorder.Records(session));
    }
}
