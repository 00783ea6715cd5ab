using Streaming.Client.Protocol;
using Streaming.Host.Server;

namespace Host.Tests.Server;

/// <summary>The connection's outbox alone: frames encoded once, written in order in chunks, and counted when written.</summary>
public sealed class ConnectionOutboxTests
{
    private readonly FrameCodec _codec = new();
    private readonly ServerCounters _counters = new();

    [Fact]
    public void Frames_are_written_in_the_order_they_were_queued_byte_for_byte_as_the_codec_encodes_them()
    {
        var outbox = new ConnectionOutbox(_codec, _counters);
        Frame[] frames = [new PongFrame(7), new OutputFrame("a", 1, 1, new[] { 1f, 2f }), new ErrorFrame("a", 2, 2, "unknown session")];
        outbox.Enqueue(outbox.Encode([frames[0]]), counted: false);
        outbox.Enqueue(outbox.Encode(frames[1..]), counted: true);
        Assert.Equal(0, _counters.Read().FramesSent);

        var (bytes, replies, length) = outbox.TakeChunk();
        Assert.True(outbox.IsEmpty);
        Assert.Equal(frames.SelectMany(_codec.Encode).ToArray(), bytes.ToArray());
        Assert.Equal((1, (long)bytes.Count), (replies, length));
        var sent = _counters.Read();
        Assert.Equal(3, sent.FramesSent);
        Assert.Equal(1, sent.ErrorsByCode[2]);
    }

    [Fact]
    public void A_reply_the_protocol_cannot_carry_is_encoded_as_an_InternalError_for_its_request()
    {
        var outbox = new ConnectionOutbox(_codec, _counters);
        var tooLarge = new SnapshotReplyFrame("big", 9, new byte[_codec.Limits.MaxFrameBytes]);
        var encoded = outbox.Encode([tooLarge]);

        var error = Assert.IsType<ErrorFrame>(_codec.Decode(encoded.Bytes));
        Assert.Equal(("big", 9UL, (ushort)ProtocolErrorCode.InternalError), (error.Session, error.Sequence, error.Code));
        Assert.Contains("SnapshotReply reply cannot be sent", error.Message, StringComparison.Ordinal);
        Assert.Equal([(ushort)ProtocolErrorCode.InternalError], encoded.ErrorCodes);
    }

    [Fact]
    public void A_chunk_ends_after_the_entry_that_reaches_the_chunk_size_and_a_large_reply_is_never_split()
    {
        var outbox = new ConnectionOutbox(_codec, _counters);
        var output = new OutputFrame("a", 1, 1, new float[4000]);
        var size = _codec.EncodedLength(output);
        var perChunk = (ConnectionOutbox.ChunkBytes + size - 1) / size;
        for (var i = 0; i < perChunk + 1; i++)
        {
            outbox.Enqueue(outbox.Encode([output]), counted: true);
        }

        var first = outbox.TakeChunk();
        Assert.Equal((perChunk, (long)perChunk * size), (first.Replies, first.Length));
        Assert.Equal(first.Length, first.Bytes.Count);
        var second = outbox.TakeChunk();
        Assert.Equal((1, (long)size), (second.Replies, second.Length));
        Assert.True(outbox.IsEmpty);

        var large = new ReplayOutputsFrame("a", 2, 0, 60_000, 1, new float[60_000]);
        outbox.Enqueue(outbox.Encode([large]), counted: true);
        outbox.Enqueue(outbox.Encode([output]), counted: true);
        Assert.Equal(_codec.EncodedLength(large), outbox.TakeChunk().Length);
        Assert.Equal(size, outbox.TakeChunk().Length);
    }
}
