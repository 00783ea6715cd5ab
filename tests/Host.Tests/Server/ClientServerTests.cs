using Streaming;
using Streaming.Client;
using Streaming.Client.Protocol;

namespace Host.Tests.Server;

/// <summary>The client library against a live server: every request, its reply, and refusals as typed errors.</summary>
public sealed class ClientServerTests
{
    private static float[][] Inputs(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => new[] { random.NextSingle() * 2 - 1, random.NextSingle() * 2 - 1, random.NextSingle() * 2 - 1 }).ToArray();
    }

    [Fact]
    public async Task Streamed_tokens_over_tcp_equal_the_bulk_call()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var client = await scope.ConnectAsync();
        var inputs = Inputs(20, seed: 1);
        await client.OpenAsync("a");
        var pushes = inputs.Select(x => client.PushAsync("a", TokenInput.Vector(x))).ToList();
        var outputs = await Task.WhenAll(pushes);
        var expected = scope.Expected(inputs);
        for (var t = 0; t < inputs.Length; t++)
        {
            Assert.Equal(t + 1, outputs[t].Position);
            Assert.Equal(expected[t], outputs[t].Output.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);
        }
    }

    [Fact]
    public async Task The_welcome_describes_the_model_and_the_limits()
    {
        var limits = new ProtocolLimits { MaxSessionsPerConnection = 3, MaxTokensInFlightPerSession = 9 };
        await using var scope = await ServerScope.StartAsync(options: new Streaming.Host.Server.ServerOptions { Limits = limits });
        await using var client = await scope.ConnectAsync();
        Assert.Equal("test-model", client.Welcome.Model);
        Assert.Equal(TokenKind.Vectors, client.Welcome.TokenKind);
        Assert.Equal(3, client.Welcome.InputSize);
        Assert.Equal(5, client.Welcome.OutputSize);
        Assert.Equal(limits, client.Welcome.Limits);
    }

    [Fact]
    public async Task A_refused_token_is_a_typed_error_and_the_session_goes_on_as_if_it_was_never_sent()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var client = await scope.ConnectAsync();
        var inputs = Inputs(3, seed: 2);
        await client.OpenAsync("a");
        var first = await client.PushAsync("a", TokenInput.Vector(inputs[0]));
        var wrongLength = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("a", TokenInput.Vector(new float[] { 1, 2 })));
        var notFinite = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("a", TokenInput.Vector(new[] { 1f, float.NaN, 0f })));
        var unknown = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("nobody", TokenInput.Vector(inputs[1])));
        var second = await client.PushAsync("a", TokenInput.Vector(inputs[1]));

        Assert.Equal(SessionErrorCode.InvalidInput, wrongLength.SessionCode);
        Assert.Equal(SessionErrorCode.InvalidInput, notFinite.SessionCode);
        Assert.Equal(SessionErrorCode.UnknownSession, unknown.SessionCode);
        Assert.Equal("nobody", unknown.Session);
        Assert.False(unknown.ConnectionLost);
        var expected = scope.Expected(inputs[..2]);
        Assert.Equal(expected[0], first.Output.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);
        Assert.Equal(expected[1], second.Output.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);
        Assert.Equal(2, second.Position);
    }

    [Fact]
    public async Task Snapshot_restore_replay_reset_and_close_round_trip_over_tcp()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var client = await scope.ConnectAsync();
        var inputs = Inputs(6, seed: 3);
        await client.OpenAsync("a");
        var replay = await client.ReplayAsync("a", inputs[..4].Select(x => TokenInput.Vector(x)).ToList());
        var snapshot = await client.SnapshotAsync("a");
        await client.RestoreAsync("b", snapshot);
        var fromA = await client.PushAsync("a", TokenInput.Vector(inputs[4]));
        var fromB = await client.PushAsync("b", TokenInput.Vector(inputs[4]));
        await client.ResetAsync("b");
        var afterReset = await client.PushAsync("b", TokenInput.Vector(inputs[0]));
        await client.CloseAsync("a");
        var closed = await Assert.ThrowsAsync<StreamingClientException>(() => client.PushAsync("a", TokenInput.Vector(inputs[5])));

        var expected = scope.Expected(inputs[..5]);
        Assert.Equal(4, replay.Position);
        for (var t = 0; t < 4; t++)
        {
            Assert.Equal(expected[t], replay.Outputs[t].ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);
        }

        Assert.Equal(4, snapshot.Position);
        Assert.Equal(expected[4], fromA.Output.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);
        Assert.Equal(fromA.Output.ToArray(), fromB.Output.ToArray());
        Assert.Equal(5, fromB.Position);
        Assert.Equal(1, afterReset.Position);
        Assert.Equal(expected[0], afterReset.Output.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);
        Assert.Equal(SessionErrorCode.UnknownSession, closed.SessionCode);
        Assert.True(await client.PingAsync() >= TimeSpan.Zero);
    }
}
