using System.Buffers;
using Streaming.Client.Protocol;
using Streaming.Host.Server;

namespace Host.Tests.Protocol;

public sealed class FrameRoundTripTests
{
    private readonly FrameCodec _codec = new();

    public static TheoryData<string> Frames => SampleFrames.Names();

    [Theory]
    [MemberData(nameof(Frames))]
    public void Every_frame_decodes_to_an_equal_frame(string name)
    {
        var frame = SampleFrames.ByName(name);
        var bytes = _codec.Encode(frame);
        var decoded = _codec.Decode(bytes);
        FrameAssert.Equal(frame, decoded);
        Assert.Equal(bytes, _codec.Encode(decoded));
    }

    [Theory]
    [MemberData(nameof(Frames))]
    public void Every_frame_starts_with_its_length_and_type_and_measures_what_it_writes(string name)
    {
        var frame = SampleFrames.ByName(name);
        var bytes = _codec.Encode(frame);
        Assert.Equal(bytes.Length, _codec.EncodedLength(frame));
        Assert.Equal((uint)(bytes.Length - 4), BitConverter.ToUInt32(bytes, 0));
        Assert.Equal((byte)frame.Type, bytes[4]);
        Assert.Equal(bytes.Length, _codec.PeekFrameLength(new ReadOnlySequence<byte>(bytes)));
    }

    [Theory]
    [MemberData(nameof(Frames))]
    public void A_buffer_writer_receives_the_same_bytes_after_what_it_held(string name)
    {
        var frame = SampleFrames.ByName(name);
        var writer = new ArrayBufferWriter<byte>();
        writer.Write(new byte[] { 9, 9, 9 });
        _codec.Encode(frame, writer);
        Assert.Equal(new byte[] { 9, 9, 9 }.Concat(_codec.Encode(frame)), writer.WrittenSpan.ToArray());
    }

    [Theory]
    [MemberData(nameof(Frames))]
    public void A_frame_split_over_many_segments_decodes_as_one(string name)
    {
        var frame = SampleFrames.ByName(name);
        var bytes = _codec.Encode(frame);
        for (var size = 1; size <= 7; size += 3)
        {
            FrameAssert.Equal(frame, _codec.Decode(Segments.Split(bytes, size)));
        }
    }

    [Fact]
    public void Thousands_of_random_frames_round_trip()
    {
        var random = new Random(20240601);
        for (var i = 0; i < 3000; i++)
        {
            var frame = SampleFrames.Random(random);
            var bytes = _codec.Encode(frame);
            FrameAssert.Equal(frame, _codec.Decode(bytes));
        }
    }

    [Fact]
    public void Vectors_keep_every_bit_including_nan_payloads_and_negative_zero()
    {
        var odd = new[] { BitConverter.Int32BitsToSingle(0x7FC0_1234), BitConverter.Int32BitsToSingle(unchecked((int)0xFF80_0001)), -0f, float.Epsilon };
        var decoded = (TokenFrame)_codec.Decode(_codec.Encode(TokenFrame.OfVector("a", 1, odd)));
        Assert.Equal(odd.Select(BitConverter.SingleToInt32Bits), decoded.Vector.ToArray().Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void Decoded_frames_own_their_buffers()
    {
        var bytes = _codec.Encode(TokenFrame.OfVector("a", 1, new[] { 1f, 2f }));
        var decoded = (TokenFrame)_codec.Decode(bytes);
        Array.Clear(bytes);
        Assert.Equal(new[] { 1f, 2f }, decoded.Vector.ToArray());
    }

    [Fact]
    public void A_frame_of_exactly_the_maximum_size_is_accepted_both_ways()
    {
        var codec = new FrameCodec(new ProtocolLimits { MaxFrameBytes = 1024 });
        // prefix 4, type 1, sequence 8, session length 1 + 1, kind 1, count 4 => 20 bytes before the floats.
        var frame = TokenFrame.OfVector("a", 1, new float[(1024 - 20) / 4]);
        var bytes = codec.Encode(frame);
        Assert.Equal(1024, bytes.Length);
        FrameAssert.Equal(frame, codec.Decode(bytes));
    }

    [Fact]
    public void Error_frames_classify_their_code()
    {
        Assert.Equal(SessionErrorCode.InvalidInput, new ErrorFrame("a", 1, 1, "m").SessionCode);
        Assert.Null(new ErrorFrame("a", 1, 1, "m").ProtocolCode);
        Assert.Equal(ProtocolErrorCode.TooManySessions, new ErrorFrame("a", 1, 107, "m").ProtocolCode);
        Assert.Null(new ErrorFrame("a", 1, 107, "m").SessionCode);
    }

    [Fact]
    public void An_error_frame_reports_a_protocol_exception_to_its_session_and_sequence()
    {
        var error = ErrorFrame.From(new ProtocolException(ProtocolErrorCode.MalformedFrame, "bad", "s", 12));
        Assert.Equal(new ErrorFrame("s", 12, 103, "bad"), error);
        Assert.Equal(new ErrorFrame("", 0, 100, "big"), ErrorFrame.From(new ProtocolException(ProtocolErrorCode.FrameTooLarge, "big")));
    }

    [Fact]
    public void An_error_frame_reports_an_engine_exception_with_its_code_and_message()
    {
        var engine = new Streaming.EngineException(Streaming.EngineErrorCode.UnknownSession, "no such session", "s");
        var error = EngineRefusal.Frame("s", 4, engine);
        Assert.Equal(new ErrorFrame("s", 4, 2, engine.Message), error);
    }
}
