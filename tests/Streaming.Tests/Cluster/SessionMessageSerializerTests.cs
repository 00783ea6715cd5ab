using System.Runtime.Serialization;
using Akka.Actor;
using Streaming.Cluster;

namespace Streaming.Tests.Cluster;

public sealed class SessionMessageSerializerTests : IAsyncLifetime
{
    // Values whose bits a text or double round trip would change: NaN payloads, -0, subnormals, extremes.
    private static readonly float[] Awkward =
    [
        BitConverter.Int32BitsToSingle(0x7FC00001), BitConverter.Int32BitsToSingle(unchecked((int)0xFFA12345)), -0f, float.Epsilon,
        -float.Epsilon, float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, 0.1f, 1f / 3f,
    ];

    private ActorSystem _system = null!;

    public Task InitializeAsync()
    {
        // The node configuration binds the messages; port 0 and no seeds: this node never joins anything.
        var config = ClusterConfig.Create(new ClusterNodeSettings { Port = 0 })
            .WithFallback("akka.loglevel = WARNING\nakka.coordinated-shutdown.run-by-actor-system-terminate = off");
        _system = ActorSystem.Create("serializer-test", config);
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => _system.Terminate();

    private T RoundTrip<T>(T message)
        where T : notnull
    {
        var serialization = _system.Serialization;
        var serializer = serialization.FindSerializerFor(message);
        Assert.IsType<SessionMessageSerializer>(serializer);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
        var bytes = serializer.ToBinary(message);
        return Assert.IsType<T>(serialization.Deserialize(bytes, serializer.Identifier, manifest));
    }

    private static void SameBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}[{i}]: bits {BitConverter.SingleToInt32Bits(actual[i]):X8}, expected {BitConverter.SingleToInt32Bits(expected[i]):X8}");
        }
    }

    [Fact]
    public void Commands_round_trip_with_every_float_bit_for_bit()
    {
        var push = RoundTrip(new PushCommand("s-ü/1", Token.Vector(Awkward) with { At = 41 }) { RequestId = 7 });
        Assert.Equal(("s-ü/1", 7L, 41L, false), (push.SessionId, push.RequestId, push.Token.At!.Value, push.Token.IsId));
        SameBits(Awkward, push.Token.Values.Span, "push values");

        var id = RoundTrip(new PushCommand("x", Token.Id(12345)) { RequestId = long.MaxValue });
        Assert.Equal((true, 12345, (long?)null, long.MaxValue), (id.Token.IsId, id.Token.TokenId, id.Token.At, id.RequestId));

        var open = RoundTrip(new OpenCommand("o", new InitialState(Awkward, Awkward[..3])) { RequestId = 1 });
        SameBits(Awkward, open.InitialState!.H0.Span, "h0");
        SameBits(Awkward[..3], open.InitialState.C0.Span, "c0");
        Assert.Null(RoundTrip(new OpenCommand("o", null)).InitialState);

        var replay = RoundTrip(new ReplayCommand("r", [Token.Vector(Awkward), Token.Vector(Awkward[2..]) with { At = 3 }], InitialState.Zeros) { RequestId = 2 });
        Assert.Equal(2, replay.Inputs.Count);
        SameBits(Awkward[2..], replay.Inputs[1].Values.Span, "replay input 1");
        Assert.Equal(3, replay.Inputs[1].At);
        Assert.True(replay.From!.H0.IsEmpty && replay.From.C0.IsEmpty);

        var snapshot = new SessionSnapshot(new ModelIdentity("m", new string('a', 64)), 9, [new LayerState(Awkward, Awkward[..4]), new LayerState(Awkward[..2], ReadOnlyMemory<float>.Empty)]);
        var restore = RoundTrip(new RestoreCommand("r", snapshot) { RequestId = 3 });
        Assert.Equal(snapshot.Model, restore.Snapshot.Model);
        Assert.Equal(9, restore.Snapshot.Position);
        SameBits(snapshot.HiddenState(), restore.Snapshot.HiddenState(), "restored h");
        SameBits(snapshot.CellState(), restore.Snapshot.CellState(), "restored c");

        Assert.Equal(new SnapshotCommand("a") { RequestId = 4 }, RoundTrip(new SnapshotCommand("a") { RequestId = 4 }));
        Assert.Equal(new ResetCommand("a") { RequestId = 5 }, RoundTrip(new ResetCommand("a") { RequestId = 5 }));
        Assert.Equal(new CloseCommand("a") { RequestId = 6 }, RoundTrip(new CloseCommand("a") { RequestId = 6 }));
        Assert.Same(HandOffSession.Instance, RoundTrip(HandOffSession.Instance));
        Assert.Same(StopClosedSession.Instance, RoundTrip(StopClosedSession.Instance));
    }

    [Fact]
    public void Replies_round_trip_bit_for_bit()
    {
        var output = RoundTrip(new OutputReply(new TokenOutput("s", 12, Awkward)) { RequestId = 8 });
        Assert.Equal(("s", 12L, 8L), (output.Output.SessionId, output.Output.Position, output.RequestId));
        SameBits(Awkward, output.Output.Output.Span, "output");

        var replayed = RoundTrip(new ReplayReply(new ReplayResult("s", 30, [Awkward, Awkward[5..], ReadOnlyMemory<float>.Empty])) { RequestId = 9 });
        Assert.Equal((30L, 3), (replayed.Result.Position, replayed.Result.Outputs.Count));
        SameBits(Awkward[5..], replayed.Result.Outputs[1].Span, "replayed step 1");
        Assert.True(replayed.Result.Outputs[2].IsEmpty);

        var snapshot = new SessionSnapshot(new ModelIdentity("m", new string('b', 64)), 2, [new LayerState(Awkward, Awkward)]);
        var snapped = RoundTrip(new SnapshotReply(snapshot) { RequestId = 10 });
        SameBits(snapshot.HiddenState(), snapped.Snapshot.HiddenState(), "snapshot h");

        Assert.Equal(new DoneReply("s") { RequestId = 11 }, RoundTrip(new DoneReply("s") { RequestId = 11 }));
    }

    [Fact]
    public void Errors_round_trip_into_the_engines_exception_with_code_message_session_and_position()
    {
        var original = new EngineException(EngineErrorCode.PositionAhead, "token 9 is ahead of position 4; resend from 4.", "s'1") { Position = 4 };
        var reply = RoundTrip(ErrorReply.From(original, "s'1") with { RequestId = 12 });
        Assert.Equal(12, reply.RequestId);
        var rebuilt = reply.ToException();
        Assert.Equal((original.Code, original.Message, original.SessionId, original.Position), (rebuilt.Code, rebuilt.Message, rebuilt.SessionId, rebuilt.Position));

        var noSession = new EngineException(EngineErrorCode.InvalidState, "h0 has 3 values; expected 16.");
        var rebuiltNoSession = RoundTrip(ErrorReply.From(noSession, "ignored")).ToException();
        Assert.Equal((noSession.Code, noSession.Message, (string?)null, (long?)null), (rebuiltNoSession.Code, rebuiltNoSession.Message, rebuiltNoSession.SessionId, rebuiltNoSession.Position));

        // Anything else the owner threw still reaches the caller as an engine error that names it.
        var other = RoundTrip(ErrorReply.From(new AggregateException(new InvalidOperationException("boom")), "s")).ToException();
        Assert.Equal(EngineErrorCode.EngineStopped, other.Code);
        Assert.Contains("InvalidOperationException: boom", other.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_bytes_and_foreign_messages_are_refused_with_what_was_wrong()
    {
        var serializer = new SessionMessageSerializer((ExtendedActorSystem)_system);
        var bytes = serializer.ToBinary(new OutputReply(new TokenOutput("s", 1, new float[] { 1, 2, 3 })));
        var truncated = Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes[..12], "O"));
        Assert.Contains("ends early", truncated.Message, StringComparison.Ordinal);
        var padded = Assert.Throws<SerializationException>(() => serializer.FromBinary([.. bytes, 0], "O"));
        Assert.Contains("1 bytes left over", padded.Message, StringComparison.Ordinal);
        var unknown = Assert.Throws<SerializationException>(() => serializer.FromBinary(bytes, "?"));
        Assert.Contains("unknown manifest '?'", unknown.Message, StringComparison.Ordinal);
        var huge = (byte[])bytes.Clone();
        BitConverter.GetBytes(int.MaxValue).CopyTo(huge, 8 + 1 + 1 + 8); // request id, "s" (length + 1 char), position, then the count
        var count = Assert.Throws<SerializationException>(() => serializer.FromBinary(huge, "O"));
        Assert.Contains($"count of {int.MaxValue}", count.Message, StringComparison.Ordinal);
        var foreign = Assert.Throws<ArgumentException>(() => serializer.ToBinary("a string"));
        Assert.Contains("System.String", foreign.Message, StringComparison.Ordinal);
    }
}
