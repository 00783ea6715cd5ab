using System.Text;
using Streaming.Client.Protocol;

namespace Host.Tests.Protocol;

/// <summary>Well-delimited frames whose body breaks its layout: refused naming the field, expected and found.</summary>
public sealed class MalformedBodyTests
{
    private readonly FrameCodec _codec = new();

    private ProtocolException Refused(byte[] frame) => Assert.Throws<ProtocolException>(() => _codec.Decode(frame));

    [Fact]
    public void A_vector_longer_than_the_bytes_left_names_session_sequence_and_sizes()
    {
        var error = Refused(Raw.Frame(0x11, Raw.Header(5, "a"), Raw.U8(0), Raw.U32(300), new byte[12]));
        Assert.Equal(ProtocolErrorCode.MalformedFrame, error.Code);
        Assert.Equal("Token frame for session 'a' (sequence 5): the vector declares 300 float(s) (1200 bytes) but only 12 byte(s) remain.", error.Message);
        Assert.Equal("a", error.Session);
        Assert.Equal(5UL, error.Sequence);
        Assert.False(error.ClosesConnection);
    }

    [Fact]
    public void A_declared_count_near_four_billion_is_refused_without_allocating_it()
    {
        var frame = Raw.Frame(0x11, Raw.Header(5, "a"), Raw.U8(0), Raw.U32(uint.MaxValue), new byte[8]);
        Refused(frame);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Refused(frame);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 16 * 1024);
    }

    [Fact]
    public void A_body_too_short_for_its_sequence_number_is_malformed_and_closes_the_connection()
    {
        var error = Refused(Raw.Frame(0x11, new byte[] { 1, 2, 3 }));
        Assert.Equal(ProtocolErrorCode.MalformedFrame, error.Code);
        Assert.Null(error.Sequence);
        Assert.True(error.ClosesConnection);
        Assert.Equal("Token frame: the frame ends 3 byte(s) into the sequence number, which needs 8 byte(s).", error.Message);
    }

    public static TheoryData<string, byte[], string> Cases => new()
    {
        { "generate prompt longer than the frame", Raw.Frame(0x17, Raw.Header(1, "a"), Raw.U32(5), Raw.U8(1), Raw.U32(1_000_000), new byte[8]), "the prompt ids declares 1000000 id(s) (4000000 bytes) but only 8 byte(s) remain." },
        { "generate prompt of vectors of width 0", Raw.Frame(0x17, Raw.Header(1, "a"), Raw.U32(5), Raw.U8(0), Raw.U32(3), Raw.U32(0)), "the prompt width is 0; expected at least 1 float per step." },
        { "generate sampling byte", Raw.Frame(0x17, Raw.Header(1, "a"), Raw.U32(5), Raw.U8(1), Raw.U32(0), Raw.U8(2), new byte[38]), "the sampling is 2; expected 0 (greedy) or 1 (random)." },
        { "generate stop ids longer than the frame", Raw.Frame(0x17, Raw.Header(1, "a"), Raw.U32(5), Raw.U8(1), Raw.U32(0), Raw.U8(0), new byte[30], Raw.U32(uint.MaxValue)), "the stop ids declares 4294967295 id(s)" },
        { "generate cut inside its sampling fields", Raw.Frame(0x17, Raw.Header(1, "a"), Raw.U32(5), Raw.U8(1), Raw.U32(0), Raw.U8(1), new byte[10]), "into the temperature, which needs 8 byte(s)." },
        { "cancel with bytes after its header", Raw.Frame(0x18, Raw.Header(1, "a"), Raw.U8(0)), "1 byte(s) follow the last field" },
        { "step top count beyond the frame", Raw.Frame(0x24, Raw.Header(1, "a"), Raw.U32(0), Raw.I64(1), Raw.U8(1), Raw.U32(7), Raw.F64(0.5), Raw.U16(60000), new byte[12]), "the top count is 60000, which needs 720000 byte(s) (12 per entry), but only 12 remain." },
        { "step probability above 1", Raw.Frame(0x24, Raw.Header(1, "a"), Raw.U32(0), Raw.I64(1), Raw.U8(1), Raw.U32(7), Raw.F64(1.5), Raw.U16(0)), "the probability is 1.5; expected 0 to 1." },
        { "step probability NaN", Raw.Frame(0x24, Raw.Header(1, "a"), Raw.U32(0), Raw.I64(1), Raw.U8(1), Raw.U32(7), Raw.F64(double.NaN), Raw.U16(0)), "the probability is NaN; expected 0 to 1." },
        { "step kind", Raw.Frame(0x24, Raw.Header(1, "a"), Raw.U32(0), Raw.I64(1), Raw.U8(2)), "the step kind is 2; expected 0 (vector) or 1 (id)." },
        { "step negative position", Raw.Frame(0x24, Raw.Header(1, "a"), Raw.U32(0), Raw.I64(-1), Raw.U8(1)), "the position is -1; expected 0 or more." },
        { "step count over int", Raw.Frame(0x24, Raw.Header(1, "a"), Raw.U32(uint.MaxValue), Raw.I64(1), Raw.U8(1)), "the step is 4294967295; expected at most 2147483647." },
        { "end reason", Raw.Frame(0x25, Raw.Header(1, "a"), Raw.U8(4), Raw.U32(0), Raw.I64(0)), "the reason is 4; expected 0 (stop id), 1 (max steps), 2 (cancelled) or 3 (interrupted)." },
        { "end negative position", Raw.Frame(0x25, Raw.Header(1, "a"), Raw.U8(0), Raw.U32(0), Raw.I64(-5)), "the position is -5; expected 0 or more." },
        { "unknown token kind", Raw.Frame(0x11, Raw.Header(1, "a"), Raw.U8(2), Raw.U32(0)), "the token kind is 2; expected 0 (vector) or 1 (id)." },
        { "bytes after the last field", Raw.Frame(0x15, Raw.Header(1, "a"), Raw.U8(0)), "1 byte(s) follow the last field" },
        { "id token cut short", Raw.Frame(0x11, Raw.Header(1, "a"), Raw.U8(1), new byte[2]), "the frame ends 2 byte(s) into the token id, which needs 4 byte(s)." },
        { "model name not UTF-8", Raw.Frame(0x10, Raw.Header(1, "a"), Raw.U16(2), new byte[] { 0xC3, 0x28 }, Raw.U32(0), Raw.U32(0)), "the model name (2 byte(s)) is not valid UTF-8." },
        { "model name longer than the frame", Raw.Frame(0x10, Raw.Header(1, "a"), Raw.U16(500), Raw.U32(0)), "into the model name, which needs 500 byte(s)" },
        { "open without c0", Raw.Frame(0x10, Raw.Header(1, "a"), Raw.U16(0), Raw.U32(0)), "into the c0 float count" },
        { "h0 longer than the frame", Raw.Frame(0x10, Raw.Header(1, "a"), Raw.U16(0), Raw.U32(3), Raw.Floats(1f), Raw.U32(0)), "the h0 declares 3 float(s) (12 bytes) but only 8 byte(s) remain." },
        { "replay of zero width", Raw.Frame(0x14, Raw.Header(1, "r"), Raw.U8(0), Raw.U32(1_000_000_000), Raw.U32(0), Raw.U32(0), Raw.U32(0)), "the input width is 0; expected at least 1 float per step." },
        { "replay inputs longer than the frame", Raw.Frame(0x14, Raw.Header(1, "r"), Raw.U8(0), Raw.U32(3), Raw.U32(2), Raw.Floats(1f, 2f), Raw.U32(0), Raw.U32(0)), "the inputs (3 step(s) x 2) declares 6 float(s) (24 bytes) but only 16 byte(s) remain." },
        { "replay ids longer than the frame", Raw.Frame(0x14, Raw.Header(1, "r"), Raw.U8(1), Raw.U32(5), Raw.U32(1)), "the token ids declares 5 id(s) (20 bytes) but only 4 byte(s) remain." },
        { "replay of unknown kind", Raw.Frame(0x14, Raw.Header(1, "r"), Raw.U8(9), Raw.U32(0)), "the input kind is 9; expected 0 (vector) or 1 (id)." },
        { "step count over int range", Raw.Frame(0x22, Raw.Header(1, "r"), Raw.I64(0), Raw.U32(0x8000_0000), Raw.U32(1)), "the step count is 2147483648; expected at most 2147483647." },
        { "outputs of zero width", Raw.Frame(0x22, Raw.Header(1, "r"), Raw.I64(0), Raw.U32(7), Raw.U32(0)), "the output width is 0" },
        { "negative output position", Raw.Frame(0x20, Raw.Header(1, "a"), Raw.I64(-1), Raw.U32(0)), "the position is -1; expected 0 or more." },
        { "snapshot longer than the frame", Raw.Frame(0x13, Raw.Header(1, "a"), Raw.U32(100), new byte[3]), "the snapshot declares 100 byte(s) but only 3 remain." },
        { "ack of a token", Raw.Frame(0x23, Raw.Header(1, "a"), Raw.U8(0x11)), "the acknowledged frame type is 0x11; expected Open (0x10), Restore (0x13), Reset (0x15) or Close (0x16)." },
        { "error message not UTF-8", Raw.Frame(0x05, Raw.Header(1, "a"), Raw.U16(1), Raw.U16(1), new byte[] { 0xFF }), "the message (1 byte(s)) is not valid UTF-8." },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_malformed_body_is_refused_for_its_session_naming_what_was_wrong(string what, byte[] frame, string mention)
    {
        var error = Refused(frame);
        Assert.True(error.Code == ProtocolErrorCode.MalformedFrame, $"{what}: {error.Code}");
        Assert.Contains(mention, error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Session);
        Assert.Equal(1UL, error.Sequence);
        Assert.False(error.ClosesConnection);
    }

    [Theory]
    [InlineData(0x03)]
    [InlineData(0x04)]
    public void A_ping_or_pong_without_its_nonce_is_malformed(byte type)
    {
        var error = Refused(Raw.Frame(type, new byte[7]));
        Assert.Equal(ProtocolErrorCode.MalformedFrame, error.Code);
        Assert.Contains("into the nonce, which needs 8 byte(s)", error.Message, StringComparison.Ordinal);
        Assert.True(error.ClosesConnection);
    }

    [Fact]
    public void A_welcome_with_impossible_limits_is_malformed_naming_the_limit()
    {
        var frame = Raw.Frame(0x02, Raw.U16(1), Raw.U8(0), Raw.U32(4), Raw.U32(4), Raw.U32(10), Raw.U32(1), Raw.U32(1), Raw.U32(0), Raw.U16(0));
        var error = Refused(frame);
        Assert.Equal(ProtocolErrorCode.MalformedFrame, error.Code);
        Assert.Contains("MaxFrameBytes is 10; expected 1024 to 1073741824 bytes.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_welcome_with_an_unknown_token_kind_is_malformed()
    {
        var frame = Raw.Frame(0x02, Raw.U16(1), Raw.U8(7), Raw.U32(4), Raw.U32(4), Raw.U32(4096), Raw.U32(1), Raw.U32(1), Raw.U32(0), Raw.U16(0));
        Assert.Contains("Welcome frame: the token kind is 7", Refused(frame).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(129)]
    [InlineData(255)]
    public void A_session_id_that_is_empty_or_too_long_is_refused_for_its_sequence(int length)
    {
        var frame = Raw.Frame(0x11, Raw.U64(9), Raw.U8((byte)length), new byte[length], Raw.U8(1), Raw.U32(0));
        var error = Refused(frame);
        Assert.Equal(ProtocolErrorCode.InvalidSessionId, error.Code);
        Assert.Equal($"Token frame (sequence 9): the session id is {length} byte(s) long; expected 1 to 128 bytes of UTF-8.", error.Message);
        Assert.Null(error.Session);
        Assert.Equal(9UL, error.Sequence);
        Assert.False(error.ClosesConnection);
    }

    [Fact]
    public void A_session_id_that_is_not_utf8_is_refused()
    {
        var error = Refused(Raw.Frame(0x15, Raw.U64(3), Raw.U8(2), new byte[] { 0xE2, 0x28 }));
        Assert.Equal(ProtocolErrorCode.InvalidSessionId, error.Code);
        Assert.Contains("is not valid UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_session_id_of_128_multibyte_bytes_is_accepted()
    {
        var session = string.Concat(Enumerable.Repeat("é", 64));
        Assert.Equal(128, Encoding.UTF8.GetByteCount(session));
        Assert.Equal(session, ((ResetFrame)_codec.Decode(_codec.Encode(new ResetFrame(session, 1)))).Session);
    }
}
