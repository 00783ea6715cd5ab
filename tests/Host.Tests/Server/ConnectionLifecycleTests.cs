using Streaming;
using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Host.Server;
using Streaming.Persistence;

namespace Host.Tests.Server;

/// <summary>Connections that end abruptly, clients that stop reading, and a server that stops with sessions open.</summary>
public sealed class ConnectionLifecycleTests
{
    private static float[][] Inputs(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => new[] { random.NextSingle() - 0.5f, random.NextSingle() - 0.5f, random.NextSingle() - 0.5f }).ToArray();
    }

    private static void AssertClose(float[] expected, ReadOnlyMemory<float> actual) =>
        Assert.Equal(expected, actual.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);

    [Fact]
    public async Task A_client_that_disconnects_mid_stream_leaves_its_sessions_open_at_exactly_the_tokens_that_were_applied()
    {
        await using var scope = await ServerScope.StartAsync();
        var inputs = Inputs(300, seed: 11);
        await using (var raw = await RawConnection.ConnectAsync(scope.Port))
        {
            await raw.SendAsync(new OpenFrame("dropped", 1));
            Assert.IsType<AckFrame>(await raw.ReadAsync());
            var codec = new FrameCodec();
            var burst = inputs[..200].SelectMany((x, i) => codec.Encode(TokenFrame.OfVector("dropped", (ulong)i + 2, x))).ToArray();
            await raw.SendAsync(burst);
        }

        // The sessions outlive the connection: once its stage has stopped (every token it read is with the engine),
        // another connection picks the session up where the engine left it.
        await scope.UntilAsync(s => s.ConnectionsAccepted == 1 && s.ConnectionsOpen == 0, "the dropped connection to stop");
        await using var client = await scope.ConnectAsync();
        var snapshot = await client.SnapshotAsync("dropped");
        var applied = (int)snapshot.Position;
        Assert.InRange(applied, 0, 200);
        var next = await client.PushAsync("dropped", TokenInput.Vector(inputs[200]));
        var expected = scope.Expected([.. inputs[..applied], inputs[200]]);
        Assert.Equal(applied + 1, next.Position);
        AssertClose(expected[^1], next.Output);
        Assert.True(await client.PingAsync() >= TimeSpan.Zero);
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_backpressured_and_the_server_holds_at_most_the_pending_bound()
    {
        const int bound = 64;
        var options = new ServerOptions { MaxPendingPerConnection = bound };
        await using var scope = await ServerScope.StartAsync(options: options);
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        var sessions = Enumerable.Range(0, 8).Select(i => $"s{i}").ToArray();
        var codec = new FrameCodec();
        ulong sequence = 0;
        await raw.SendAsync(sessions.SelectMany(s => codec.Encode(new OpenFrame(s, ++sequence))).ToArray());
        var inputs = Inputs(250, seed: 12);
        var tokens = inputs.SelectMany(x => sessions.Select(s => codec.Encode(TokenFrame.OfVector(s, ++sequence, x)))).SelectMany(b => b).ToArray();

        // The client writes everything and reads nothing: the server must stop reading once it holds the bound.
        var sending = raw.SendAsync(tokens);
        await scope.UntilAsync(s => s.ReadPauses >= 1, "the connection to stop reading at its bound");
        Assert.InRange(scope.Server.Statistics.PeakPendingPerConnection, 1, bound);

        // Now the client reads: every token gets its exact output, and the bound held throughout.
        var outputs = sessions.ToDictionary(s => s, _ => new List<OutputFrame>());
        var acks = 0;
        while (outputs.Values.Sum(o => o.Count) < inputs.Length * sessions.Length)
        {
            switch (await raw.ReadAsync())
            {
                case OutputFrame output:
                    outputs[output.Session].Add(output);
                    break;
                case AckFrame:
                    acks++;
                    break;
                case var other:
                    Assert.Fail($"unexpected {other}");
                    break;
            }
        }

        await sending;
        Assert.Equal(sessions.Length, acks);
        var expected = scope.Expected(inputs);
        foreach (var session in sessions)
        {
            Assert.Equal(inputs.Length, outputs[session].Count);
            for (var t = 0; t < inputs.Length; t++)
            {
                Assert.Equal(t, outputs[session][t].Position);
                AssertClose(expected[t], outputs[session][t].Output);
            }
        }

        Assert.InRange(scope.Server.Statistics.PeakPendingPerConnection, 1, bound);
    }

    [Fact]
    public async Task A_client_that_sends_replays_and_never_reads_makes_the_server_hold_at_most_the_pending_bytes_bound()
    {
        // Each replay is 2,000 steps: 24 KB in, 40 KB out. The frame bound (4,096) is never the one reached.
        const int bound = 256 * 1024;
        const int steps = 2000;
        var options = new ServerOptions { MaxPendingBytesPerConnection = bound };
        await using var scope = await ServerScope.StartAsync(options: options);
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        var sessions = Enumerable.Range(0, 6).Select(i => $"r{i}").ToArray();
        var codec = new FrameCodec();
        ulong sequence = 0;
        await raw.SendAsync(sessions.SelectMany(s => codec.Encode(new OpenFrame(s, ++sequence))).ToArray());
        var inputs = Inputs(steps * 8, seed: 14);
        var replays = new List<byte[]>();
        for (var r = 0; r < 8; r++)
        {
            var flat = inputs[(r * steps)..((r + 1) * steps)].SelectMany(x => x).ToArray();
            replays.AddRange(sessions.Select(s => codec.Encode(ReplayFrame.OfVectors(s, ++sequence, steps, 3, flat))));
        }

        // 48 replays, 1.2 MB in and 1.9 MB of outputs; the client reads nothing until the server has stopped reading it.
        var sending = raw.SendAsync(replays.SelectMany(b => b).ToArray());
        await scope.UntilAsync(s => s.ReadPauses >= 1, "the connection to stop reading at its bound");
        var charge = codec.EncodedLength(ReplayFrame.OfVectors("r0", 1, steps, 3, new float[steps * 3])) + (steps * 4L * 5) + 48 + 2;
        var held = scope.Server.Statistics;
        Assert.InRange(held.PendingBytes, 1, bound + charge);
        Assert.InRange(held.PeakPendingBytesPerConnection, bound, bound + charge);
        Assert.True(held.Pending < options.MaxPendingPerConnection, $"the frame bound was reached ({held.Pending}); the test is about bytes");

        // Now it reads: every step of every replay arrives, exactly, and the bound held throughout.
        var outputs = sessions.ToDictionary(s => s, _ => new List<float[]>());
        var acks = 0;
        while (outputs.Values.Sum(o => o.Count) < steps * 8 * sessions.Length)
        {
            switch (await raw.ReadAsync())
            {
                case ReplayOutputsFrame frame:
                    Assert.Equal(outputs[frame.Session].Count, frame.Position);
                    outputs[frame.Session].AddRange(frame.Outputs.ToArray().Chunk(frame.Width));
                    break;
                case AckFrame:
                    acks++;
                    break;
                case var other:
                    Assert.Fail($"unexpected {other}");
                    break;
            }
        }

        await sending;
        Assert.Equal(sessions.Length, acks);
        var expected = scope.Expected(inputs);
        foreach (var session in sessions)
        {
            foreach (var t in new[] { 0, steps - 1, steps, (steps * 8) - 1 })
            {
                AssertClose(expected[t], outputs[session][t]);
            }
        }

        Assert.InRange(scope.Server.Statistics.PeakPendingBytesPerConnection, bound, bound + charge);
    }

    [Fact]
    public async Task Stopping_the_server_answers_every_token_already_sent_then_says_EngineStopped_and_the_sessions_are_saved()
    {
        var store = new InMemorySnapshotStore();
        var scope = await ServerScope.StartAsync(engineOptions: new EngineOptions { Store = store });
        var inputs = Inputs(40, seed: 13);
        await using var client = await scope.ConnectAsync();
        await client.OpenAsync("kept-a");
        await client.OpenAsync("kept-b");
        var sessions = new[] { "kept-a", "kept-b" };
        var pushes = inputs.Select((x, i) => client.PushAsync(sessions[i % 2], TokenInput.Vector(x))).ToList();
        await pushes[0];

        await scope.Server.StopAsync();
        await Task.WhenAll(pushes.Select(p => p.ContinueWith(_ => { }, TaskScheduler.Default)));
        await client.Completion;
        var afterStop = await Assert.ThrowsAsync<StreamingClientException>(() => client.PingAsync());
        Assert.True(afterStop.ConnectionLost, afterStop.Message);
        Assert.Equal(SessionErrorCode.EngineStopped, afterStop.SessionCode);
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => scope.ConnectAsync());
        await scope.DisposeAsync();

        // Tokens the server had read are answered, exactly; those it had not read fail as not applied, after them.
        for (var s = 0; s < 2; s++)
        {
            var mine = Enumerable.Range(0, inputs.Length).Where(i => i % 2 == s).ToList();
            var answered = mine.TakeWhile(i => pushes[i].IsCompletedSuccessfully).ToList();
            Assert.All(mine.Skip(answered.Count), i => Assert.Equal(SessionErrorCode.EngineStopped, Assert.IsType<StreamingClientException>(pushes[i].Exception!.InnerException).SessionCode));
            // The stop may come before the server read any token of the second session: then none was answered.
            if (answered.Count > 0)
            {
                var expected = scope.Expected(answered.Select(i => inputs[i]).ToList());
                for (var t = 0; t < answered.Count; t++)
                {
                    AssertClose(expected[t], (await pushes[answered[t]]).Output);
                }
            }

            Assert.Equal(answered.Count, (await store.LoadAsync(sessions[s]))!.Snapshot!.Position);
        }
    }
}
