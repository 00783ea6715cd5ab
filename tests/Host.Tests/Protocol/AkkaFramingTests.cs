using Akka.Actor;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Streaming.Client.Protocol;

namespace Host.Tests.Protocol;

/// <summary>The frame layout is exactly what Akka's length-field framing cuts out of a TCP byte stream.</summary>
public sealed class AkkaFramingTests : IDisposable
{
    private readonly ActorSystem _system = ActorSystem.Create("framing");

    public void Dispose() => _system.Dispose();

    [Fact]
    public async Task Frames_in_arbitrary_chunks_come_out_of_length_field_framing_whole_and_decode()
    {
        var codec = new FrameCodec();
        var frames = SampleFrames.All().ToList();
        var stream = frames.SelectMany(codec.Encode).ToArray();
        var random = new Random(4);
        var chunks = new List<ByteString>();
        for (var at = 0; at < stream.Length;)
        {
            var size = Math.Min(random.Next(1, 40), stream.Length - at);
            chunks.Add(ByteString.FromBytes(stream, at, size));
            at += size;
        }

        var decoded = await Source.From(chunks)
            .Via(Framing.LengthField(FrameCodec.LengthFieldBytes, codec.Limits.MaxFrameBytes, 0, ByteOrder.LittleEndian))
            .Select(frame => codec.Decode(frame.ToArray()))
            .RunWith(Sink.Seq<Frame>(), _system.Materializer());

        Assert.Equal(frames.Count, decoded.Count);
        for (var i = 0; i < frames.Count; i++)
        {
            FrameAssert.Equal(frames[i], decoded[i]);
        }
    }

    [Fact]
    public async Task A_frame_of_exactly_the_maximum_size_passes_length_field_framing()
    {
        var codec = new FrameCodec(new ProtocolLimits { MaxFrameBytes = 4096 });
        var frame = codec.Encode(TokenFrame.OfVector("a", 1, new float[(4096 - 20) / 4]));
        Assert.Equal(4096, frame.Length);
        var framed = await Source.Single(ByteString.FromBytes(frame))
            .Via(Framing.LengthField(FrameCodec.LengthFieldBytes, codec.Limits.MaxFrameBytes, 0, ByteOrder.LittleEndian))
            .RunWith(Sink.Seq<ByteString>(), _system.Materializer());
        Assert.Equal(frame, Assert.Single(framed).ToArray());
    }

    [Fact]
    public async Task Length_field_framing_fails_the_stream_on_a_frame_over_the_same_maximum()
    {
        var codec = new FrameCodec();
        var oversized = Raw.U32((uint)(codec.Limits.MaxFrameBytes - FrameCodec.LengthFieldBytes + 1));
        var run = Source.Single(ByteString.FromBytes(oversized))
            .Via(Framing.LengthField(FrameCodec.LengthFieldBytes, codec.Limits.MaxFrameBytes, 0, ByteOrder.LittleEndian))
            .RunWith(Sink.Seq<ByteString>(), _system.Materializer());
        await Assert.ThrowsAsync<Framing.FramingException>(() => run);
        Assert.Equal(ProtocolErrorCode.FrameTooLarge, Assert.Throws<ProtocolException>(() => codec.PeekFrameLength(new System.Buffers.ReadOnlySequence<byte>(oversized))).Code);
    }
}
