using System.Buffers;
using Streaming.Client.Protocol;

namespace Host.Tests.Protocol;

/// <summary>Violations of the frame envelope: length prefix and type byte. Each closes the connection.</summary>
public sealed class FramingViolationTests
{
    private readonly FrameCodec _codec = new();

    public static TheoryData<string> Frames => SampleFrames.Names();

    [Fact]
    public void A_declared_length_over_the_maximum_is_refused_as_too_large()
    {
        var error = Assert.Throws<ProtocolException>(() => _codec.Decode(Raw.Hex("FFFFFFFF 11")));
        Assert.Equal(ProtocolErrorCode.FrameTooLarge, error.Code);
        Assert.True(error.ClosesConnection);
        Assert.Equal("the length prefix declares 4294967295 byte(s) after it (4294967299 in all); the maximum frame size is 1048576 bytes.", error.Message);
    }

    [Fact]
    public void The_maximum_counts_the_length_prefix()
    {
        var codec = new FrameCodec(new ProtocolLimits { MaxFrameBytes = 2048 });
        Assert.Equal(2048, codec.PeekFrameLength(new ReadOnlySequence<byte>(Raw.U32(2044))));
        var error = Assert.Throws<ProtocolException>(() => codec.PeekFrameLength(new ReadOnlySequence<byte>(Raw.U32(2045))));
        Assert.Equal(ProtocolErrorCode.FrameTooLarge, error.Code);
    }

    [Fact]
    public void An_oversized_length_is_refused_before_anything_is_allocated_for_it()
    {
        var huge = Raw.Hex("FFFFFFF0 11 00000000");
        var split = Segments.Split(huge, 3);
        Assert.Throws<ProtocolException>(() => _codec.Decode(huge));
        Assert.Throws<ProtocolException>(() => _codec.Decode(split));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10; i++)
        {
            Assert.Throws<ProtocolException>(() => _codec.Decode(huge));
            Assert.Throws<ProtocolException>(() => _codec.Decode(split));
            Assert.Throws<ProtocolException>(() => _codec.PeekFrameLength(split));
        }

        // Thirty refusals cost their exceptions and messages, never the 4 GiB declared.
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 30 * 16 * 1024);
    }

    [Fact]
    public void Peeking_needs_the_whole_length_prefix()
    {
        Assert.Null(_codec.PeekFrameLength(ReadOnlySequence<byte>.Empty));
        Assert.Null(_codec.PeekFrameLength(new ReadOnlySequence<byte>(new byte[] { 5, 0, 0 })));
        Assert.Equal(9, _codec.PeekFrameLength(Segments.Split(Raw.Hex("05000000 11"), 1)));
    }

    [Theory]
    [MemberData(nameof(Frames))]
    public void Every_truncated_prefix_of_a_valid_frame_is_refused_as_truncated(string name)
    {
        var bytes = _codec.Encode(SampleFrames.ByName(name));
        for (var length = 0; length < bytes.Length; length++)
        {
            var error = Assert.Throws<ProtocolException>(() => _codec.Decode(bytes.AsSpan(0, length)));
            Assert.Equal(ProtocolErrorCode.TruncatedFrame, error.Code);
            Assert.True(error.ClosesConnection);
            var split = Assert.Throws<ProtocolException>(() => _codec.Decode(Segments.Split(bytes[..length], 2)));
            Assert.Equal(ProtocolErrorCode.TruncatedFrame, split.Code);
        }
    }

    [Fact]
    public void A_truncated_frame_names_what_was_declared_and_what_arrived()
    {
        var error = Assert.Throws<ProtocolException>(() => _codec.Decode(Raw.Hex("10000000 11 0102")));
        Assert.Equal("the length prefix declares 16 byte(s) after it but only 3 arrived.", error.Message);
        Assert.Contains("inside the 4-byte length prefix", Assert.Throws<ProtocolException>(() => _codec.Decode(Raw.Hex("1000"))).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x08)]
    [InlineData(0x0F)]
    [InlineData(0x19)]
    [InlineData(0x1F)]
    [InlineData(0x26)]
    [InlineData(0x80)]
    [InlineData(0xFF)]
    public void An_unknown_frame_type_is_refused_naming_the_byte(byte type)
    {
        var error = Assert.Throws<ProtocolException>(() => _codec.Decode(Raw.Frame(type, Raw.Header(1, "a"))));
        Assert.Equal(ProtocolErrorCode.UnknownFrameType, error.Code);
        Assert.True(error.ClosesConnection);
        Assert.StartsWith($"frame type 0x{type:X2} is unknown; expected 0x01-0x07, 0x10-0x18 or 0x20-0x25", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_frame_without_a_type_byte_is_malformed_and_closes_the_connection()
    {
        var error = Assert.Throws<ProtocolException>(() => _codec.Decode(Raw.U32(0)));
        Assert.Equal(ProtocolErrorCode.MalformedFrame, error.Code);
        Assert.True(error.ClosesConnection);
        Assert.Contains("a frame has at least its type byte", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bytes_after_the_declared_end_are_refused_since_decode_takes_exactly_one_frame()
    {
        var two = _codec.Encode(new PingFrame(1)).Concat(_codec.Encode(new PingFrame(2))).ToArray();
        Assert.Equal(ProtocolErrorCode.MalformedFrame, Assert.Throws<ProtocolException>(() => _codec.Decode(two)).Code);
        Assert.Equal(ProtocolErrorCode.MalformedFrame, Assert.Throws<ProtocolException>(() => _codec.Decode(Segments.Split(two, 5))).Code);
    }

    [Theory]
    [InlineData("05000000 01 524E4E50", "4 byte(s) follow the type byte; expected 6")]
    [InlineData("07000000 01 48545450 0100", "the magic is 48545450; expected 524E4E50 ('RNNP')")]
    [InlineData("08000000 01 524E4E50 010000", "7 byte(s) follow the type byte")]
    public void A_hello_with_the_wrong_magic_or_size_is_a_bad_handshake(string hex, string mention)
    {
        var error = Assert.Throws<ProtocolException>(() => _codec.Decode(Raw.Hex(hex)));
        Assert.Equal(ProtocolErrorCode.BadHandshake, error.Code);
        Assert.True(error.ClosesConnection);
        Assert.Contains(mention, error.Message, StringComparison.Ordinal);
    }
}
