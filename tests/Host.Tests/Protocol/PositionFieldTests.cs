using Streaming;
using Streaming.Client.Protocol;
using Streaming.Host.Server;

namespace Host.Tests.Protocol;

/// <summary>
/// The optional position of a Token frame and the session position of a DuplicateToken/PositionAhead Error:
/// present exactly where docs/protocol.md says, never negative, and nothing else in their place.
/// </summary>
public sealed class PositionFieldTests
{
    private readonly FrameCodec _codec = new();

    private ProtocolException Refused(byte[] frame) => Assert.Throws<ProtocolException>(() => _codec.Decode(frame));

    private ProtocolException NotEncoded(Frame frame) => Assert.Throws<ProtocolException>(() => _codec.Encode(frame));

    [Fact]
    public void A_token_without_trailing_bytes_has_no_position_and_one_with_eight_has_it()
    {
        var plain = (TokenFrame)_codec.Decode(Raw.Frame(0x11, Raw.Header(1, "a"), Raw.U8(0), Raw.U32(1), Raw.Floats(2f)));
        Assert.Null(plain.Position);
        var positioned = (TokenFrame)_codec.Decode(Raw.Frame(0x11, Raw.Header(1, "a"), Raw.U8(0), Raw.U32(1), Raw.Floats(2f), Raw.I64(41)));
        Assert.Equal(41L, positioned.Position);
        Assert.Equal(new[] { 2f }, positioned.Vector.ToArray());
        var id = (TokenFrame)_codec.Decode(Raw.Frame(0x11, Raw.Header(1, "a"), Raw.U8(1), Raw.U32(9), Raw.I64(0)));
        Assert.Equal((9, 0L), (id.Id, id.Position!.Value));
    }

    [Fact]
    public void A_position_does_not_change_the_bytes_before_it()
    {
        var without = _codec.Encode(TokenFrame.OfVector("a", 5, new[] { 1f, 2f }));
        var with = _codec.Encode(TokenFrame.OfVector("a", 5, new[] { 1f, 2f }, position: 7));
        Assert.Equal(without.Length + 8, with.Length);
        Assert.Equal(without.AsSpan(4).ToArray(), with.AsSpan(4, without.Length - 4).ToArray());
        Assert.Equal(Raw.I64(7), with.AsSpan(without.Length).ToArray());
    }

    public static TheoryData<string, byte[], string> MalformedTokens => new()
    {
        { "7 bytes after a vector", Raw.Frame(0x11, Raw.Header(1, "a"), Raw.U8(0), Raw.U32(1), Raw.Floats(1f), new byte[7]), "7 byte(s) follow the token; expected none, or 8 (an i64 position)." },
        { "9 bytes after an id", Raw.Frame(0x11, Raw.Header(1, "a"), Raw.U8(1), Raw.U32(3), new byte[9]), "9 byte(s) follow the token; expected none, or 8 (an i64 position)." },
        { "1 byte after an id", Raw.Frame(0x11, Raw.Header(1, "a"), Raw.U8(1), Raw.U32(3), new byte[1]), "1 byte(s) follow the token; expected none, or 8 (an i64 position)." },
        { "16 bytes after a vector", Raw.Frame(0x11, Raw.Header(1, "a"), Raw.U8(0), Raw.U32(0), new byte[16]), "16 byte(s) follow the token" },
        { "negative position", Raw.Frame(0x11, Raw.Header(1, "a"), Raw.U8(0), Raw.U32(1), Raw.Floats(1f), Raw.I64(-1)), "Token frame for session 'a' (sequence 1): the token position is -1; expected 0 or more." },
        { "most negative position", Raw.Frame(0x11, Raw.Header(1, "a"), Raw.U8(1), Raw.U32(3), Raw.I64(long.MinValue)), $"the token position is {long.MinValue}; expected 0 or more." },
        { "duplicate without its position", Raw.Frame(0x05, Raw.Header(1, "a"), Raw.U16(10), Raw.U16(1), new byte[] { 0x78 }), "the frame ends 0 byte(s) into the session position, which needs 8 byte(s)." },
        { "ahead with a cut position", Raw.Frame(0x05, Raw.Header(1, "a"), Raw.U16(11), Raw.U16(0), new byte[5]), "the frame ends 5 byte(s) into the session position, which needs 8 byte(s)." },
        { "ahead with a negative position", Raw.Frame(0x05, Raw.Header(1, "a"), Raw.U16(11), Raw.U16(0), Raw.I64(-3)), "the session position is -3; expected 0 or more." },
        { "duplicate with bytes after its position", Raw.Frame(0x05, Raw.Header(1, "a"), Raw.U16(10), Raw.U16(0), Raw.I64(3), new byte[1]), "1 byte(s) follow the last field" },
        { "position on an InvalidInput error", Raw.Frame(0x05, Raw.Header(1, "a"), Raw.U16(1), Raw.U16(1), new byte[] { 0x78 }, Raw.I64(3)), "8 byte(s) follow the message of an Error with code 1; only DuplicateToken (10) and PositionAhead (11) carry a position after it." },
        { "position on a StoreFailed error", Raw.Frame(0x05, Raw.Header(1, "a"), Raw.U16(12), Raw.U16(0), Raw.I64(3)), "8 byte(s) follow the message of an Error with code 12" },
        { "position on a protocol error", Raw.Frame(0x05, Raw.Header(1, "a"), Raw.U16(103), Raw.U16(0), Raw.I64(0)), "follow the message of an Error with code 103" },
    };

    [Theory]
    [MemberData(nameof(MalformedTokens))]
    public void A_misplaced_or_invalid_position_is_malformed_for_its_session(string what, byte[] frame, string mention)
    {
        var error = Refused(frame);
        Assert.True(error.Code == ProtocolErrorCode.MalformedFrame, $"{what}: {error.Code}");
        Assert.Contains(mention, error.Message, StringComparison.Ordinal);
        Assert.Equal("a", error.Session);
        Assert.Equal(1UL, error.Sequence);
        Assert.False(error.ClosesConnection);
    }

    [Fact]
    public void The_encoder_refuses_what_the_decoder_would_refuse()
    {
        Assert.Contains("the position is -1; expected 0 or more.", NotEncoded(TokenFrame.OfVector("a", 1, new[] { 1f }, position: -1)).Message, StringComparison.Ordinal);
        Assert.Contains("the position is -2", NotEncoded(TokenFrame.OfId("a", 1, 3) with { Position = -2 }).Message, StringComparison.Ordinal);
        Assert.Contains("an Error with code 10 carries the session's position; expected a Position.", NotEncoded(new ErrorFrame("a", 1, 10, "m")).Message, StringComparison.Ordinal);
        Assert.Contains("an Error with code 11 carries the session's position", NotEncoded(new ErrorFrame("a", 1, 11, "m")).Message, StringComparison.Ordinal);
        Assert.Contains("an Error with code 1 carries no position", NotEncoded(new ErrorFrame("a", 1, 1, "m") { Position = 3 }).Message, StringComparison.Ordinal);
        Assert.Contains("the position is -1", NotEncoded(new ErrorFrame("a", 1, 10, "m") { Position = -1 }).Message, StringComparison.Ordinal);
        Assert.Equal(ProtocolErrorCode.MalformedFrame, NotEncoded(new ErrorFrame("a", 1, 10, "m")).Code);
    }

    [Theory]
    [InlineData(1 << 20)]
    [InlineData(1024)]
    public void A_long_message_is_cut_so_that_the_position_still_fits(int maxFrameBytes)
    {
        var codec = new FrameCodec(new ProtocolLimits { MaxFrameBytes = maxFrameBytes });
        var message = string.Concat(Enumerable.Repeat("✓é", 30_000));
        var bytes = codec.Encode(new ErrorFrame(new string('s', 128), 1, 11, message) { Position = 99 });
        Assert.InRange(bytes.Length, 0, maxFrameBytes);
        var decoded = (ErrorFrame)codec.Decode(bytes);
        Assert.StartsWith(decoded.Message, message, StringComparison.Ordinal);
        Assert.Equal(99L, decoded.Position);
    }

    [Theory]
    [InlineData(EngineErrorCode.DuplicateToken)]
    [InlineData(EngineErrorCode.PositionAhead)]
    public void An_engine_refusal_of_a_position_carries_the_sessions_position(EngineErrorCode code)
    {
        var engine = new EngineException(code, "out of place", "s") { Position = 17 };
        var error = EngineRefusal.Frame("s", 4, engine);
        Assert.Equal(new ErrorFrame("s", 4, (ushort)code, engine.Message) { Position = 17 }, error);
        var decoded = (ErrorFrame)_codec.Decode(_codec.Encode(error));
        Assert.Equal(((ushort)code, 17L), ((ushort)decoded.SessionCode!.Value, decoded.Position!.Value));
    }

    [Fact]
    public void Other_engine_refusals_carry_no_position_even_if_the_exception_has_one()
    {
        var error = EngineRefusal.Frame("s", 4, new EngineException(EngineErrorCode.InvalidInput, "bad", "s") { Position = 5 });
        Assert.Null(error.Position);
        Assert.Equal((ushort)EngineErrorCode.InvalidInput, error.Code);
        _codec.Encode(error);
    }

    [Fact]
    public void An_engine_refusal_of_a_position_without_one_becomes_an_internal_error_that_can_be_sent()
    {
        var error = EngineRefusal.Frame("s", 4, new EngineException(EngineErrorCode.PositionAhead, "ahead", "s"));
        Assert.Equal(ProtocolErrorCode.InternalError, error.ProtocolCode);
        Assert.Null(error.Position);
        Assert.Contains("PositionAhead but gave no valid session position (none)", error.Message, StringComparison.Ordinal);
        Assert.Equal(error, _codec.Decode(_codec.Encode(error)));
    }

    [Fact]
    public void Only_duplicate_token_and_position_ahead_carry_a_position()
    {
        var carrying = Enumerable.Range(0, 65536).Where(code => ErrorFrame.CarriesPosition((ushort)code));
        Assert.Equal(new[] { 10, 11 }, carrying);
    }
}
