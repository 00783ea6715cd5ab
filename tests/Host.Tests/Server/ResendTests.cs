using Akka.Actor;
using Streaming;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Host.Server;

namespace Host.Tests.Server;

/// <summary>
/// Token positions over TCP (docs/protocol.md, "Resending after a failure"): a resend is answered DuplicateToken and
/// not applied, a gap PositionAhead naming where to resend from, and the outputs stay bit for bit those of a session
/// that was never disturbed.
/// </summary>
public sealed class ResendTests
{
    private static float[][] Inputs(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => new[] { random.NextSingle() * 2 - 1, random.NextSingle() * 2 - 1, random.NextSingle() * 2 - 1 }).ToArray();
    }

    private static int[] Bits(TokenReply output) => output.Output.ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();

    /// <summary>The outputs of a session that gets <paramref name="inputs"/> once each, in order, without positions.</summary>
    private static async Task<TokenReply[]> Undisturbed(StreamingClient client, string session, float[][] inputs)
    {
        await client.OpenAsync(session);
        var outputs = new TokenReply[inputs.Length];
        for (var t = 0; t < inputs.Length; t++)
        {
            outputs[t] = await client.PushAsync(session, TokenInput.Vector(inputs[t]));
        }

        return outputs;
    }

    [Fact]
    public async Task A_resent_token_is_answered_duplicate_with_the_sessions_position_and_not_applied_again()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var client = await scope.ConnectAsync();
        var inputs = Inputs(10, seed: 11);
        var reference = await Undisturbed(client, "ref", inputs);

        await client.OpenAsync("a");
        for (var t = 0; t < 5; t++)
        {
            var output = await client.PushAsync("a", TokenInput.Vector(inputs[t]), position: t);
            Assert.Equal(t + 1, output.Position);
            Assert.Equal(Bits(reference[t]), Bits(output));
        }

        var duplicate = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("a", TokenInput.Vector(inputs[2]), position: 2));
        var duplicateOfLast = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("a", TokenInput.Vector(inputs[4]) with { At = 4 }));
        Assert.Equal(SessionErrorCode.DuplicateToken, duplicate.SessionCode);
        Assert.Equal(5L, duplicate.Position);
        Assert.Equal("a", duplicate.Session);
        Assert.False(duplicate.ConnectionLost);
        Assert.Contains("position 2", duplicate.Message, StringComparison.Ordinal);
        Assert.Equal((SessionErrorCode.DuplicateToken, 5L), (duplicateOfLast.SessionCode!.Value, duplicateOfLast.Position!.Value));

        for (var t = 5; t < 10; t++)
        {
            var output = await client.PushAsync("a", TokenInput.Vector(inputs[t]), position: t);
            Assert.Equal(t + 1, output.Position);
            Assert.Equal(Bits(reference[t]), Bits(output));
        }

        Assert.Equal(10, (await client.SnapshotAsync("a")).Position);
    }

    [Fact]
    public async Task A_gap_is_answered_position_ahead_and_resending_from_there_continues_as_if_uninterrupted()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var client = await scope.ConnectAsync();
        var inputs = Inputs(9, seed: 12);
        var reference = await Undisturbed(client, "ref", inputs);

        await client.OpenAsync("a");
        for (var t = 0; t < 3; t++)
        {
            await client.PushAsync("a", TokenInput.Vector(inputs[t]), position: t);
        }

        // Tokens 3 and 4 never arrived; 5 and 6 are sent pipelined and both refused with the same position.
        var ahead = new[] { client.PushAsync("a", TokenInput.Vector(inputs[5]), position: 5), client.PushAsync("a", TokenInput.Vector(inputs[6]), position: 6) };
        foreach (var refused in ahead)
        {
            var error = await Assert.ThrowsAsync<StreamingClientException>(() => refused);
            Assert.Equal(SessionErrorCode.PositionAhead, error.SessionCode);
            Assert.Equal(3L, error.Position);
            Assert.Contains("resend from position 3", error.Message, StringComparison.Ordinal);
        }

        var resent = await Task.WhenAll(Enumerable.Range(3, 6).Select(t => client.PushAsync("a", TokenInput.Vector(inputs[t]), position: t)));
        for (var i = 0; i < resent.Length; i++)
        {
            Assert.Equal(3 + i + 1, resent[i].Position);
            Assert.Equal(Bits(reference[3 + i]), Bits(resent[i]));
        }
    }

    [Fact]
    public async Task After_a_session_falls_back_to_an_older_snapshot_the_client_resends_from_the_position_the_server_names()
    {
        await using var scope = await ServerScope.StartAsync();
        var inputs = Inputs(8, seed: 13);
        TokenReply[] reference;
        Snapshot? persisted = null;
        await using (var first = await scope.ConnectAsync())
        {
            reference = await Undisturbed(first, "ref", inputs);
            await first.OpenAsync("a");
            for (var t = 0; t < 6; t++)
            {
                if (t == 2)
                {
                    persisted = await first.SnapshotAsync("a"); // a checkpoint
                }

                await first.PushAsync("a", TokenInput.Vector(inputs[t]), position: t);
            }

            // As after a crash: the session is back at its last persisted state (position 2); tokens 2-5 are lost.
            await first.RestoreAsync("a", persisted!);
        }

        // The client reconnects and goes on where it thinks the session is.
        await using var client = await scope.ConnectAsync();
        var error = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("a", TokenInput.Vector(inputs[6]), position: 6));
        Assert.Equal(SessionErrorCode.PositionAhead, error.SessionCode);
        Assert.Equal(2L, error.Position);

        for (var t = (int)error.Position!.Value; t < inputs.Length; t++)
        {
            var output = await client.PushAsync("a", TokenInput.Vector(inputs[t]), position: t);
            Assert.Equal(t + 1, output.Position);
            Assert.Equal(Bits(reference[t]), Bits(output));
        }
    }

    [Fact]
    public async Task Tokens_without_positions_behave_as_before_and_mix_with_positioned_ones()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var client = await scope.ConnectAsync();
        var inputs = Inputs(6, seed: 14);
        var reference = await Undisturbed(client, "ref", inputs);

        await client.OpenAsync("a");
        var outputs = new List<TokenReply>
        {
            await client.PushAsync("a", TokenInput.Vector(inputs[0])),
            await client.PushAsync("a", TokenInput.Vector(inputs[1])),
            await client.PushAsync("a", TokenInput.Vector(inputs[2]), position: 2),
        };
        var duplicate = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("a", TokenInput.Vector(inputs[2]), position: 0));
        outputs.Add(await client.PushAsync("a", TokenInput.Vector(inputs[3])));
        outputs.Add(await client.PushAsync("a", TokenInput.Vector(inputs[4]), position: 4));
        outputs.Add(await client.PushAsync("a", TokenInput.Vector(inputs[5])));

        Assert.Equal((SessionErrorCode.DuplicateToken, 3L), (duplicate.SessionCode!.Value, duplicate.Position!.Value));
        Assert.Equal(reference.Select(Bits), outputs.Select(Bits));
        Assert.Equal(Enumerable.Range(1, 6).Select(p => (long)p), outputs.Select(o => o.Position));

        // Other refusals carry no position.
        var invalid = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("a", TokenInput.Vector(new float[2]), position: 6));
        var unknown = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("nobody", TokenInput.Vector(inputs[0]), position: 0));
        Assert.Equal((SessionErrorCode.InvalidInput, (long?)null), (invalid.SessionCode!.Value, invalid.Position));
        Assert.Equal((SessionErrorCode.UnknownSession, (long?)null), (unknown.SessionCode!.Value, unknown.Position));
    }

    [Fact]
    public async Task A_replay_moves_the_position_by_its_steps_and_a_reset_back_to_zero()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var client = await scope.ConnectAsync();
        var inputs = Inputs(5, seed: 15);
        var reference = await Undisturbed(client, "ref", inputs);

        await client.OpenAsync("a");
        await client.ReplayAsync("a", inputs[..4].Select(x => TokenInput.Vector(x)).ToList());
        var duplicate = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("a", TokenInput.Vector(inputs[3]), position: 3));
        var next = await client.PushAsync("a", TokenInput.Vector(inputs[4]), position: 4);
        await client.ResetAsync("a");
        var ahead = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("a", TokenInput.Vector(inputs[0]), position: 5));
        var restarted = await client.PushAsync("a", TokenInput.Vector(inputs[0]), position: 0);

        Assert.Equal((SessionErrorCode.DuplicateToken, 4L), (duplicate.SessionCode!.Value, duplicate.Position!.Value));
        Assert.Equal(5, next.Position);
        Assert.Equal(reference[4].Output.ToArray(), next.Output.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);
        Assert.Equal((SessionErrorCode.PositionAhead, 0L), (ahead.SessionCode!.Value, ahead.Position!.Value));
        Assert.Equal(Bits(reference[0]), Bits(restarted));
    }

    [Fact]
    public async Task The_client_refuses_a_negative_or_contradictory_position_before_sending()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var client = await scope.ConnectAsync();
        await client.OpenAsync("a");
        // Argument errors are thrown by the call itself, before any task exists.
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = client.PushAsync("a", TokenInput.Vector(new float[3]), position: -1); });
        Assert.Throws<ArgumentOutOfRangeException>(() => { _ = client.PushAsync("a", TokenInput.Vector(new float[3]) with { At = -4 }); });
        var contradiction = Assert.Throws<ArgumentException>(() => { _ = client.PushAsync("a", TokenInput.Vector(new float[3]) with { At = 1 }, position: 2); });
        Assert.Contains("the position is 2 but the token's At is 1", contradiction.Message, StringComparison.Ordinal);
        var agreed = await client.PushAsync("a", TokenInput.Vector(new float[3]) with { At = 0 }, position: 0);
        Assert.Equal(1, agreed.Position);
    }

    [Fact]
    public async Task A_raw_duplicate_error_frame_carries_the_position_after_the_message()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        await raw.SendAsync(new OpenFrame("a", 1));
        Assert.IsType<AckFrame>(await raw.ReadAsync());
        await raw.SendAsync(TokenFrame.OfVector("a", 2, new[] { 1f, 2f, 3f }, position: 0));
        var output = Assert.IsType<OutputFrame>(await raw.ReadAsync());
        await raw.SendAsync(TokenFrame.OfVector("a", 3, new[] { 1f, 2f, 3f }, position: 0));
        var error = await raw.ReadErrorAsync();

        Assert.Equal(0L, output.Position);
        Assert.Equal(("a", 3UL, (ushort)EngineErrorCode.DuplicateToken, (long?)1L), (error.Session, error.Sequence, error.Code, error.Position));
    }

    [Fact]
    public async Task The_server_serves_any_session_service()
    {
        var weights = ModelWeights.CreateRandom(ServerScope.SmallLstm, seed: 7);
        var system = ActorSystem.Create("service-test", "akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING\nakka.log-dead-letters = off");
        try
        {
            await using var engine = await RecurrentEngine.StartAsync(system, ModelIdentity.Of("test-model", weights), weights);
            var service = new CountingService(engine);
            await using var server = await StreamingServer.StartAsync(system, service, ServerOptions.Default with { Host = "127.0.0.1", Port = 0 });
            await using var client = await StreamingClient.ConnectAsync("127.0.0.1", server.Endpoint.Port);
            Assert.Equal("test-model", client.Welcome.Model);
            await client.OpenAsync("a");
            await client.PushAsync("a", TokenInput.Vector(new float[3]), position: 0);
            var duplicate = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("a", TokenInput.Vector(new float[3]), position: 0));
            await client.CloseAsync("a");

            Assert.Equal(SessionErrorCode.DuplicateToken, duplicate.SessionCode);
            Assert.Equal(new[] { "open a", "push a at 0", "push a at 0", "close a" }, service.Calls);
        }
        finally
        {
            await system.Terminate();
        }
    }

    /// <summary>A session service that records the calls it forwards: the server must need nothing else.</summary>
    private sealed class CountingService(ISessionService inner) : ISessionService
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _calls = new();

        public IReadOnlyList<string> Calls => _calls.ToArray();

        public ModelIdentity Model => inner.Model;

        public ModelSpec Spec => inner.Spec;

        public Streaming.Cells.Backends.KernelReport Kernels => inner.Kernels;

        public Task OpenAsync(string sessionId, InitialState? initialState = null) => Record($"open {sessionId}", inner.OpenAsync(sessionId, initialState));

        public Task<TokenOutput> PushAsync(string sessionId, Token token) => Record($"push {sessionId} at {token.At}", inner.PushAsync(sessionId, token));

        public Task<SessionSnapshot> SnapshotAsync(string sessionId) => Record($"snapshot {sessionId}", inner.SnapshotAsync(sessionId));

        public Task RestoreAsync(string sessionId, SessionSnapshot snapshot) => Record($"restore {sessionId}", inner.RestoreAsync(sessionId, snapshot));

        public Task<ReplayResult> ReplayAsync(string sessionId, IReadOnlyList<Token> inputs, InitialState? from = null) => Record($"replay {sessionId}", inner.ReplayAsync(sessionId, inputs, from));

        public Task ResetAsync(string sessionId) => Record($"reset {sessionId}", inner.ResetAsync(sessionId));

        public Task CloseAsync(string sessionId) => Record($"close {sessionId}", inner.CloseAsync(sessionId));

        private T Record<T>(string call, T task)
        {
            _calls.Enqueue(call);
            return task;
        }
    }
}
