using System.Buffers;
using System.Text;
using Streaming.Client.Protocol;

namespace Host.Tests.Protocol;

/// <summary>The encoder refuses what a decoder would refuse, so every frame it writes reads back.</summary>
public sealed class EncodingRefusalTests
{
    private readonly FrameCodec _codec = new();

    private ProtocolException Refused(Frame frame) => Assert.Throws<ProtocolException>(() => _codec.Encode(frame));

    [Fact]
    public void A_session_id_that_is_empty_or_not_unicode_is_refused()
    {
        // Built in code: a lone surrogate does not survive xunit's serialization of inline data.
        foreach (var session in new[] { "", "a" + (char)0xD800 })
        {
            var error = Refused(new ResetFrame(session, 4));
            Assert.Equal(ProtocolErrorCode.InvalidSessionId, error.Code);
            Assert.Equal(4UL, error.Sequence);
        }
    }

    [Fact]
    public void A_session_id_over_128_utf8_bytes_is_refused_counting_bytes_not_characters()
    {
        var session = string.Concat(Enumerable.Repeat("é", 65));
        Assert.Equal(65, session.Length);
        var error = Refused(TokenFrame.OfId(session, 1, 0));
        Assert.Equal(ProtocolErrorCode.InvalidSessionId, error.Code);
        Assert.Contains("the session id is 130 UTF-8 byte(s); expected 1 to 128.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_error_frame_may_have_an_empty_session_but_no_other_frame_may()
    {
        Assert.Equal(ProtocolErrorCode.InvalidSessionId, Refused(new AckFrame("", 1, FrameType.Open)).Code);
        Assert.Equal("", ((ErrorFrame)_codec.Decode(_codec.Encode(new ErrorFrame("", 0, 100, "m")))).Session);
    }

    [Fact]
    public void A_frame_over_the_maximum_is_refused_naming_its_size_session_and_sequence()
    {
        var error = Refused(TokenFrame.OfVector("a", 3, new float[300_000]));
        Assert.Equal(ProtocolErrorCode.FrameTooLarge, error.Code);
        Assert.Equal("cannot encode Token frame for session 'a' (sequence 3): it takes 1200020 bytes; the maximum frame size is 1048576 bytes.", error.Message);
        Assert.Equal("a", error.Session);
        Assert.Equal(3UL, error.Sequence);
    }

    [Fact]
    public void A_refused_frame_writes_nothing_into_a_buffer_writer()
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.Throws<ProtocolException>(() => _codec.Encode(TokenFrame.OfVector("a", 3, new float[300_000]), writer));
        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public void Replay_outputs_whose_steps_and_width_disagree_with_the_floats_are_refused()
    {
        var error = Refused(new ReplayOutputsFrame("r", 2, 0, 3, 2, new float[5]));
        Assert.Equal(ProtocolErrorCode.MalformedFrame, error.Code);
        Assert.Contains("3 step(s) of width 2 do not describe 5 float(s)", error.Message, StringComparison.Ordinal);
        Assert.Equal(ProtocolErrorCode.MalformedFrame, Refused(new ReplayOutputsFrame("r", 2, 0, 0, 0, ReadOnlyMemory<float>.Empty)).Code);
    }

    [Fact]
    public void Only_open_restore_reset_and_close_are_acknowledged()
    {
        Assert.Contains("the acknowledged frame type is Token", Refused(new AckFrame("a", 1, FrameType.Token)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Negative_positions_are_refused()
    {
        Assert.Contains("the position is -1", Refused(new OutputFrame("a", 1, -1, new float[1])).Message, StringComparison.Ordinal);
        Assert.Contains("the position is -5", Refused(new ReplayOutputsFrame("a", 1, -5, 1, 1, new float[1])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_welcome_with_invalid_limits_or_sizes_is_refused()
    {
        var limits = new ProtocolLimits { MaxSessionsPerConnection = 0 };
        Assert.Contains("MaxSessionsPerConnection is 0; expected at least 1.", Refused(new WelcomeFrame(1, "m", TokenKind.Vectors, 1, 1, limits)).Message, StringComparison.Ordinal);
        Assert.Contains("the input size is -1", Refused(new WelcomeFrame(1, "m", TokenKind.Vectors, -1, 1, ProtocolLimits.Default)).Message, StringComparison.Ordinal);
        Assert.Contains("the token kind is 5", Refused(new WelcomeFrame(1, "m", (TokenKind)5, 1, 1, ProtocolLimits.Default)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_name_over_65535_bytes_is_refused()
    {
        var error = Refused(new OpenFrame("a", 1, new string('m', 70_000)));
        Assert.Equal(ProtocolErrorCode.MalformedFrame, error.Code);
        Assert.Contains("the model name is 70000 UTF-8 bytes; expected at most 65535.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1 << 20)]
    [InlineData(1024)]
    public void An_error_message_too_long_for_the_frame_is_cut_at_a_character_boundary(int maxFrameBytes)
    {
        var codec = new FrameCodec(new ProtocolLimits { MaxFrameBytes = maxFrameBytes });
        var message = string.Concat(Enumerable.Repeat("✓é", 30_000));
        var bytes = codec.Encode(new ErrorFrame(new string('s', 128), 1, 103, message));
        Assert.InRange(bytes.Length, 0, maxFrameBytes);
        var decoded = (ErrorFrame)codec.Decode(bytes);
        Assert.StartsWith(decoded.Message, message, StringComparison.Ordinal);
        Assert.InRange(Encoding.UTF8.GetByteCount(decoded.Message), Math.Min(ushort.MaxValue, maxFrameBytes - 146) - 2, ushort.MaxValue);
    }

    [Fact]
    public void The_factories_refuse_inconsistent_replays()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ReplayFrame.OfVectors("r", 1, 2, 3, new float[5]));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReplayFrame.OfVectors("r", 1, 2, 0, ReadOnlyMemory<float>.Empty));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReplayFrame.OfVectors("r", 1, -1, 1, ReadOnlyMemory<float>.Empty));
    }
}
