using Host.Tests.Protocol;
using Streaming;
using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Host.Server;

namespace Host.Tests.Server;

/// <summary>
/// Clients that break the protocol get an Error that says so, a framing violation closes only their own connection,
/// and a well-behaved client on another connection keeps getting exact outputs throughout.
/// </summary>
public sealed class ProtocolAbuseTests
{
    private static readonly float[] One = [0.5f, -0.25f, 1f];

    /// <summary>A well-behaved client streaming one session; each check pushes another token and verifies every output so far.</summary>
    private sealed class Bystander(ServerScope scope, StreamingClient client, string session)
    {
        private readonly List<float[]> _inputs = [];

        public static async Task<Bystander> StartAsync(ServerScope scope)
        {
            var client = await scope.ConnectAsync();
            var session = "bystander-" + Guid.NewGuid().ToString("N");
            await client.OpenAsync(session);
            var bystander = new Bystander(scope, client, session);
            await bystander.StepAsync();
            return bystander;
        }

        public async Task StepAsync()
        {
            var input = new[] { _inputs.Count * 0.1f, -0.3f, 0.7f - (_inputs.Count * 0.05f) };
            _inputs.Add(input);
            var output = await client.PushAsync(session, TokenInput.Vector(input));
            Assert.Equal(_inputs.Count, output.Position);
            Assert.Equal(scope.Expected(_inputs)[^1], output.Output.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);
            Assert.True(await client.PingAsync() >= TimeSpan.Zero);
        }
    }

    private static async Task AssertHealthyAsync(ServerScope scope)
    {
        await using var fresh = await scope.ConnectAsync();
        Assert.True(await fresh.PingAsync() >= TimeSpan.Zero);
    }

    [Fact]
    public async Task An_oversized_length_prefix_gets_FrameTooLarge_and_closes_only_that_connection()
    {
        await using var scope = await ServerScope.StartAsync();
        var bystander = await Bystander.StartAsync(scope);
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        await raw.SendAsync(Raw.U32((uint)ProtocolLimits.Default.MaxFrameBytes));
        var error = await raw.ReadErrorAsync();
        Assert.Equal((ushort)ProtocolErrorCode.FrameTooLarge, error.Code);
        Assert.Equal("", error.Session);
        Assert.Contains($"{ProtocolLimits.Default.MaxFrameBytes}", error.Message, StringComparison.Ordinal);
        Assert.Empty(await raw.ReadToEndAsync());
        await bystander.StepAsync();
        await AssertHealthyAsync(scope);
    }

    [Fact]
    public async Task A_frame_cut_off_by_the_end_of_the_stream_gets_TruncatedFrame()
    {
        await using var scope = await ServerScope.StartAsync();
        var bystander = await Bystander.StartAsync(scope);
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        var token = new FrameCodec().Encode(TokenFrame.OfVector("a", 1, One));
        await raw.SendAsync(token[..(token.Length - 3)]);
        raw.ShutdownSend();
        var error = await raw.ReadErrorAsync();
        Assert.Equal((ushort)ProtocolErrorCode.TruncatedFrame, error.Code);
        Assert.Empty(await raw.ReadToEndAsync());
        await bystander.StepAsync();
        await AssertHealthyAsync(scope);
    }

    [Fact]
    public async Task An_unknown_frame_type_gets_UnknownFrameType_and_closes_only_that_connection()
    {
        await using var scope = await ServerScope.StartAsync();
        var bystander = await Bystander.StartAsync(scope);
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        await raw.SendAsync(Raw.Frame(0x7E, Raw.Header(3, "a")));
        var error = await raw.ReadErrorAsync();
        Assert.Equal((ushort)ProtocolErrorCode.UnknownFrameType, error.Code);
        Assert.Contains("0x7E", error.Message, StringComparison.Ordinal);
        Assert.Empty(await raw.ReadToEndAsync());
        await bystander.StepAsync();
        await AssertHealthyAsync(scope);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task Random_garbage_bytes_get_an_Error_and_a_closed_connection_and_nothing_else_is_harmed(int seed)
    {
        await using var scope = await ServerScope.StartAsync();
        var bystander = await Bystander.StartAsync(scope);
        var random = new Random(seed);
        var garbage = new byte[random.Next(1, 4096)];
        random.NextBytes(garbage);
        await using var raw = await RawConnection.ConnectAsync(scope.Port, hello: seed % 2 == 0);
        await raw.SendAsync(garbage);

        // Garbage that declares a frame longer than what follows would wait for more bytes; the end of the stream
        // makes it a truncated frame. (An idle timeout short enough to end it would end the idle bystander as well.)
        raw.ShutdownSend();

        // Garbage may happen to contain whole well-formed frames that are answered; the last frame is an Error and the connection closes.
        var frames = await raw.ReadToEndAsync();
        var last = Assert.IsType<ErrorFrame>(frames[^1]);
        Assert.True(last.Code >= 100, $"a protocol error code; got {last.Code}: {last.Message}");
        await bystander.StepAsync();
        await AssertHealthyAsync(scope);
    }

    [Fact]
    public async Task A_first_frame_that_is_not_a_Hello_gets_BadHandshake_and_a_wrong_version_UnsupportedVersion()
    {
        await using var scope = await ServerScope.StartAsync();
        await using (var raw = await RawConnection.ConnectAsync(scope.Port, hello: false))
        {
            await raw.SendAsync(new PingFrame(1));
            Assert.Equal((ushort)ProtocolErrorCode.BadHandshake, (await raw.ReadErrorAsync()).Code);
            Assert.Empty(await raw.ReadToEndAsync());
        }

        await using (var raw = await RawConnection.ConnectAsync(scope.Port, hello: false))
        {
            await raw.SendAsync(new HelloFrame(2));
            var error = await raw.ReadErrorAsync();
            Assert.Equal((ushort)ProtocolErrorCode.UnsupportedVersion, error.Code);
            Assert.Contains("version 1", error.Message, StringComparison.Ordinal);
            Assert.Empty(await raw.ReadToEndAsync());
        }

        await AssertHealthyAsync(scope);
    }

    [Fact]
    public async Task Wrong_length_NaN_and_unknown_session_are_answered_with_their_errors_and_the_connection_goes_on()
    {
        await using var scope = await ServerScope.StartAsync();
        var bystander = await Bystander.StartAsync(scope);
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        await raw.SendAsync(new OpenFrame("a", 1));
        Assert.Equal(new AckFrame("a", 1, FrameType.Open), await raw.ReadAsync());
        await raw.SendAsync(TokenFrame.OfVector("a", 2, new float[] { 1, 2 }));
        await raw.SendAsync(TokenFrame.OfVector("a", 3, new[] { 1f, float.NaN, 0f }));
        await raw.SendAsync(TokenFrame.OfVector("nobody", 4, One));
        await raw.SendAsync(TokenFrame.OfId("a", 5, 1));
        await raw.SendAsync(TokenFrame.OfVector("a", 6, One));

        // Replies of one session come in its order; replies of different sessions interleave.
        var replies = new List<SessionFrame>();
        for (var i = 0; i < 5; i++)
        {
            replies.Add(Assert.IsAssignableFrom<SessionFrame>(await raw.ReadAsync()));
        }

        Assert.Equal([2ul, 3ul, 5ul, 6ul], replies.Where(r => r.Session == "a").Select(r => r.Sequence));
        var bySequence = replies.ToDictionary(r => r.Sequence);
        var wrongLength = Assert.IsType<ErrorFrame>(bySequence[2]);
        var nan = Assert.IsType<ErrorFrame>(bySequence[3]);
        var unknown = Assert.IsType<ErrorFrame>(bySequence[4]);
        var wrongKind = Assert.IsType<ErrorFrame>(bySequence[5]);
        var output = Assert.IsType<OutputFrame>(bySequence[6]);

        Assert.Equal(("a", 2ul, (ushort)EngineErrorCode.InvalidInput), (wrongLength.Session, wrongLength.Sequence, wrongLength.Code));
        Assert.Contains("expected input_size 3", wrongLength.Message, StringComparison.Ordinal);
        Assert.Equal(("a", 3ul, (ushort)EngineErrorCode.InvalidInput), (nan.Session, nan.Sequence, nan.Code));
        Assert.Contains("NaN", nan.Message, StringComparison.Ordinal);
        Assert.Equal(("nobody", 4ul, (ushort)EngineErrorCode.UnknownSession), (unknown.Session, unknown.Sequence, unknown.Code));
        Assert.Equal(("a", 5ul, (ushort)EngineErrorCode.InvalidInput), (wrongKind.Session, wrongKind.Sequence, wrongKind.Code));
        Assert.Equal(("a", 6ul, 0L), (output.Session, output.Sequence, output.Position));
        Assert.Equal(scope.Expected([One])[0], output.Output.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);
        await raw.SendAsync(new PingFrame(99));
        Assert.Equal(new PongFrame(99), await raw.ReadAsync());
        await bystander.StepAsync();
    }

    [Fact]
    public async Task A_malformed_body_with_a_readable_sequence_is_refused_and_the_next_frame_is_still_served()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        await raw.SendAsync(Raw.Frame(0x11, Raw.Header(7, "a"), Raw.U8(0), Raw.U32(300), Raw.Floats(1, 2, 3)));
        await raw.SendAsync(Raw.Frame(0x12, Raw.Header(8, new string('x', 129))));
        await raw.SendAsync(new OpenFrame("a", 9));
        var malformed = await raw.ReadErrorAsync();
        var badId = await raw.ReadErrorAsync();
        Assert.Equal((7ul, (ushort)ProtocolErrorCode.MalformedFrame), (malformed.Sequence, malformed.Code));
        Assert.Equal((8ul, (ushort)ProtocolErrorCode.InvalidSessionId), (badId.Sequence, badId.Code));
        Assert.Equal(new AckFrame("a", 9, FrameType.Open), await raw.ReadAsync());
    }

    [Fact]
    public async Task Frames_sent_the_wrong_way_get_UnexpectedFrame_and_the_connection_goes_on()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        await raw.SendAsync(new OutputFrame("a", 4, 0, One));
        await raw.SendAsync(HelloFrame.Current);
        var output = await raw.ReadErrorAsync();
        var hello = await raw.ReadErrorAsync();
        Assert.Equal(("a", 4ul, (ushort)ProtocolErrorCode.UnexpectedFrame), (output.Session, output.Sequence, output.Code));
        Assert.Equal(("", 0ul, (ushort)ProtocolErrorCode.UnexpectedFrame), (hello.Session, hello.Sequence, hello.Code));
        await raw.SendAsync(new PingFrame(5));
        Assert.Equal(new PongFrame(5), await raw.ReadAsync());
    }

    [Fact]
    public async Task Sessions_over_the_connection_limit_get_TooManySessions_until_one_is_closed()
    {
        await using var scope = await ServerScope.StartAsync(options: new ServerOptions { Limits = new ProtocolLimits { MaxSessionsPerConnection = 2 } });
        await using var client = await scope.ConnectAsync();
        await client.OpenAsync("a");
        await client.OpenAsync("b");
        var refused = await Assert.ThrowsAsync<StreamingClientException>(() => client.OpenAsync("c"));
        Assert.Equal(ProtocolErrorCode.TooManySessions, refused.ProtocolCode);
        var restore = await Assert.ThrowsAsync<StreamingClientException>(async () => await client.RestoreAsync("c", await client.SnapshotAsync("a")));
        Assert.Equal(ProtocolErrorCode.TooManySessions, restore.ProtocolCode);
        await client.CloseAsync("a");
        await client.OpenAsync("c");
        await using var other = await scope.ConnectAsync();
        await other.OpenAsync("d");
    }

    [Fact]
    public async Task Tokens_over_the_in_flight_limit_of_a_session_get_TooManyTokensInFlight_and_the_rest_are_exact()
    {
        await using var scope = await ServerScope.StartAsync(options: new ServerOptions { Limits = new ProtocolLimits { MaxTokensInFlightPerSession = 4 } });
        await using var client = await scope.ConnectAsync();
        await client.OpenAsync("a");
        var inputs = Enumerable.Range(0, 64).Select(i => new[] { i * 0.01f, 0.5f, -0.5f }).ToArray();
        var pushes = inputs.Select(x => client.PushAsync("a", TokenInput.Vector(x))).ToList();
        await Task.WhenAll(pushes.Select(p => p.ContinueWith(_ => { }, TaskScheduler.Default)));

        var accepted = new List<float[]>();
        var refused = 0;
        for (var i = 0; i < pushes.Count; i++)
        {
            if (pushes[i].IsCompletedSuccessfully)
            {
                accepted.Add(inputs[i]);
                var output = await pushes[i];
                Assert.Equal(accepted.Count, output.Position);
                Assert.Equal(scope.Expected(accepted)[^1], output.Output.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);
            }
            else
            {
                refused++;
                var error = Assert.IsType<StreamingClientException>(pushes[i].Exception!.InnerException);
                Assert.Equal(ProtocolErrorCode.TooManyTokensInFlight, error.ProtocolCode);
            }
        }

        // The first four are always accepted: nothing else was in flight.
        Assert.True(accepted.Count >= 4, $"accepted {accepted.Count}");
        Assert.Equal(inputs.Length, accepted.Count + refused);
    }

    [Fact]
    public async Task An_idle_connection_gets_IdleTimeout_and_is_closed()
    {
        await using var scope = await ServerScope.StartAsync(options: new ServerOptions { Limits = new ProtocolLimits { IdleTimeout = TimeSpan.FromMilliseconds(200) } });
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        var error = await raw.ReadErrorAsync();
        Assert.Equal((ushort)ProtocolErrorCode.IdleTimeout, error.Code);
        Assert.Empty(await raw.ReadToEndAsync());
        await AssertHealthyAsync(scope);
    }
}
