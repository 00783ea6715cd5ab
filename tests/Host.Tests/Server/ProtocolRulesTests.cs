using Host.Tests.Protocol;
using Streaming;
using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Host.Server;
using Streaming.Sessions;

namespace Host.Tests.Server;

/// <summary>The points where docs/protocol.md and the server once disagreed, each pinned as the document now says.</summary>
public sealed class ProtocolRulesTests
{
    private static readonly float[] One = [0.5f, -0.25f, 1f];

    private static async Task<ErrorFrame> ClosingErrorAsync(RawConnection raw)
    {
        var error = await raw.ReadErrorAsync();
        Assert.True(error.EndsConnection, $"{error.Code} should end the connection");
        Assert.Equal("", error.Session);
        Assert.Equal(0UL, error.Sequence);
        return error;
    }

    [Fact]
    public async Task Before_the_Welcome_every_unreadable_first_frame_is_BadHandshake_a_length_0_one_included()
    {
        await using var scope = await ServerScope.StartAsync();
        foreach (var first in new[] { Raw.U32(0), Raw.U32(uint.MaxValue), [1, 0, 0, 0, 0x7F] })
        {
            await using var raw = await RawConnection.ConnectAsync(scope.Port, hello: false);
            await raw.SendAsync(first);
            var error = await ClosingErrorAsync(raw);
            Assert.Equal((ushort)ProtocolErrorCode.BadHandshake, error.Code);
            Assert.StartsWith("the first frame could not be read as a Hello", error.Message, StringComparison.Ordinal);
            Assert.Empty(await raw.ReadToEndAsync());
        }
    }

    [Fact]
    public async Task A_malformed_Ping_or_StatusRequest_has_no_sequence_to_answer_so_it_gets_MalformedFrame_and_closes_the_connection()
    {
        await using var scope = await ServerScope.StartAsync();
        foreach (var type in new byte[] { 0x03, 0x06 })
        {
            await using var raw = await RawConnection.ConnectAsync(scope.Port);
            await raw.SendAsync([5, 0, 0, 0, type, 1, 2, 3, 4]);
            var error = await ClosingErrorAsync(raw);
            Assert.Equal((ushort)ProtocolErrorCode.MalformedFrame, error.Code);
            Assert.Empty(await raw.ReadToEndAsync());
        }
    }

    [Fact]
    public async Task An_over_long_session_id_is_InvalidSessionId_even_in_a_frame_too_short_to_hold_it_and_the_connection_goes_on()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(scope.Port);

        // A Token frame whose body ends right after the session length byte, which says 200.
        await raw.SendAsync([10, 0, 0, 0, 0x11, 9, 0, 0, 0, 0, 0, 0, 0, 200]);
        var error = await raw.ReadErrorAsync();
        Assert.Equal((ushort)ProtocolErrorCode.InvalidSessionId, error.Code);
        Assert.Equal(9UL, error.Sequence);
        Assert.Equal("", error.Session);
        Assert.False(error.EndsConnection);
        Assert.Contains("200 byte(s)", error.Message, StringComparison.Ordinal);

        await raw.SendAsync(new PingFrame(4));
        Assert.Equal(4UL, Assert.IsType<PongFrame>(await raw.ReadAsync()).Nonce);
    }

    [Fact]
    public async Task Every_violation_that_closes_ends_the_same_way_the_Error_then_the_servers_FIN_while_the_client_keeps_its_side_open()
    {
        await using var scope = await ServerScope.StartAsync();

        // The idle connection on a server of its own, so that the timeout cannot overtake the other violations.
        var idleOptions = new ServerOptions { Limits = ProtocolLimits.Default with { IdleTimeout = TimeSpan.FromMilliseconds(300) } };
        await using var idleScope = await ServerScope.StartAsync(options: idleOptions);
        var violations = new (string What, bool Hello, byte[] Bytes, ProtocolErrorCode Code)[]
        {
            ("oversized", true, Raw.U32(uint.MaxValue), ProtocolErrorCode.FrameTooLarge),
            ("unknown type", true, [1, 0, 0, 0, 0x7F], ProtocolErrorCode.UnknownFrameType),
            ("bad handshake", false, new FrameCodec().Encode(new PingFrame(1)), ProtocolErrorCode.BadHandshake),
            ("wrong version", false, new FrameCodec().Encode(new HelloFrame(2)), ProtocolErrorCode.UnsupportedVersion),
            ("garbage", true, [1, 0, 0, 0, 0x11], ProtocolErrorCode.MalformedFrame),
            ("idle", true, [], ProtocolErrorCode.IdleTimeout),
        };

        foreach (var (what, hello, bytes, code) in violations)
        {
            await using var raw = await RawConnection.ConnectAsync(code == ProtocolErrorCode.IdleTimeout ? idleScope.Port : scope.Port, hello);
            raw.ClosesAfterLastFrame = false;
            await raw.SendAsync(bytes);
            Assert.True((ushort)code == (await ClosingErrorAsync(raw)).Code, what);

            // Nothing after the Error: the server's FIN, although this client has not closed its side.
            Assert.Null(await raw.ReadAsync());
        }
    }

    [Fact]
    public async Task A_client_that_never_closes_after_a_closing_Error_is_closed_by_the_server_at_the_close_deadline()
    {
        var options = new ServerOptions { MaxConnections = 1, CloseDeadline = TimeSpan.FromMilliseconds(200) };
        await using var scope = await ServerScope.StartAsync(options: options);
        await using var stubborn = await RawConnection.ConnectAsync(scope.Port);
        stubborn.ClosesAfterLastFrame = false;
        await stubborn.SendAsync([1, 0, 0, 0, 0x7F]);
        Assert.Equal((ushort)ProtocolErrorCode.UnknownFrameType, (await ClosingErrorAsync(stubborn)).Code);
        Assert.Null(await stubborn.ReadAsync());

        // The only connection slot frees once the server has closed the socket, which it does without this client.
        await using var next = await ConnectionLimitTests.ConnectWhenRoomAsync(scope.Port);
        Assert.True(await next.PingAsync() >= TimeSpan.Zero);
    }

    [Fact]
    public async Task A_Restore_with_a_NaN_or_an_infinity_in_its_state_is_refused_with_InvalidState_and_changes_nothing()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var client = await scope.ConnectAsync();
        await client.OpenAsync("kept");
        await client.PushAsync("kept", TokenInput.Vector(One));
        var good = SessionSnapshot.FromBytes((await client.SnapshotAsync("kept")).Bytes.Span);
        var poisoned = new[]
        {
            good with { Layers = [new LayerState(WithAt(good.Layers[0].H, 1, float.NaN), good.Layers[0].C), good.Layers[1]] },
            good with { Layers = [good.Layers[0], new LayerState(good.Layers[1].H, WithAt(good.Layers[1].C, 4, float.PositiveInfinity))] },
        };

        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        ulong sequence = 0;
        foreach (var snapshot in poisoned)
        {
            foreach (var session in new[] { "kept", "fresh" })
            {
                await raw.SendAsync(new RestoreFrame(session, ++sequence, snapshot.ToBytes()));
                var error = await raw.ReadErrorAsync();
                Assert.Equal((ushort)EngineErrorCode.InvalidState, error.Code);
                Assert.Equal(session, error.Session);
                Assert.Contains("finite", error.Message, StringComparison.Ordinal);
            }
        }

        // "fresh" was never opened, and "kept" goes on from its own state.
        await raw.SendAsync(new SnapshotRequestFrame("fresh", ++sequence));
        var unknown = await raw.ReadErrorAsync();
        Assert.Equal((ushort)EngineErrorCode.UnknownSession, unknown.Code);

        // Messages to clients name protocol frames, not the .NET methods behind them.
        Assert.Contains("with an Open or a Restore", unknown.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Async", unknown.Message, StringComparison.Ordinal);
        var next = await client.PushAsync("kept", TokenInput.Vector(One));
        Assert.Equal(scope.Expected([One, One])[1], next.Output.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);
    }

    [Fact]
    public async Task A_Restore_with_a_negative_position_is_MalformedSnapshot()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var client = await scope.ConnectAsync();
        await client.OpenAsync("a");
        var snapshot = SessionSnapshot.FromBytes((await client.SnapshotAsync("a")).Bytes.Span);
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        await raw.SendAsync(new RestoreFrame("a", 3, (snapshot with { Position = -1 }).ToBytes()));
        var error = await raw.ReadErrorAsync();
        Assert.Equal((ushort)EngineErrorCode.MalformedSnapshot, error.Code);
        Assert.Contains("position is -1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replay_of_zero_steps_is_refused_with_InvalidInput()
    {
        await using var scope = await ServerScope.StartAsync();
        await using var raw = await RawConnection.ConnectAsync(scope.Port);
        await raw.SendAsync(new OpenFrame("a", 1));
        Assert.IsType<AckFrame>(await raw.ReadAsync());
        await raw.SendAsync(ReplayFrame.OfVectors("a", 2, 0, 3, ReadOnlyMemory<float>.Empty));
        var error = await raw.ReadErrorAsync();
        Assert.Equal((ushort)EngineErrorCode.InvalidInput, error.Code);
        Assert.Equal(2UL, error.Sequence);
    }

    [Fact]
    public void The_snapshot_bytes_are_laid_out_as_documented_with_4_byte_counts_for_their_strings()
    {
        var bytes = Convert.FromHexString("524E4E534E415031" + "01000000" + "6D" + "02000000" + "6162" + "0200000000000000" + "01000000" + "01000000" + "0000003F" + "00000000");
        var snapshot = SessionSnapshot.FromBytes(bytes);
        Assert.Equal(new ModelIdentity("m", "ab"), snapshot.Model);
        Assert.Equal(2, snapshot.Position);
        var layer = Assert.Single(snapshot.Layers);
        Assert.Equal([0.5f], layer.H.ToArray());
        Assert.Empty(layer.C.ToArray());
        Assert.Equal(bytes, snapshot.ToBytes());
    }

    private static float[] WithAt(ReadOnlyMemory<float> values, int index, float value)
    {
        var copy = values.ToArray();
        copy[index] = value;
        return copy;
    }
}
