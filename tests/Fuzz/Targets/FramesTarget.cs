using Akka.Actor;
using Akka.Configuration;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Dsl;
using Streaming.Fuzz.Seeds;
using Streaming.Client.Protocol;
using Streaming.Host.Server;

namespace Streaming.Fuzz.Targets;

/// <summary>
/// The bytes a client sends on a connection, through the server's <see cref="FrameCutter"/> (as the TCP stage hands
/// them over, in chunks) and through <see cref="FrameCodec"/>. Input: one byte choosing the chunk size (0: all at
/// once), then the byte stream. Contract: decoding throws only <see cref="ProtocolException"/>; a decoded frame
/// encodes back to exactly its bytes; the cutter completes without failing and emits, in order, exactly what cutting
/// the same stream frame by frame with the codec gives (each frame, or the violation that took its place, a
/// framing violation last).
/// </summary>
internal sealed class FramesTarget : FuzzTarget
{
    // A small maximum frame size, so that FrameTooLarge is as reachable as the rest; the minimum allowed is 1024.
    private static readonly FrameCodec Codec = new(new ProtocolLimits { MaxFrameBytes = 4096 });

    private static readonly Lazy<(ActorSystem System, IMaterializer Materializer)> Akka = new(() =>
    {
        var system = ActorSystem.Create("fuzz", ConfigurationFactory.ParseString("akka.loglevel = ERROR\nakka.stdout-loglevel = ERROR"));
        return (system, system.Materializer());
    });

    public override string Name => "frames";

    public override string Description => "FrameCutter (the connection's framing stage) and FrameCodec.Decode on a client's byte stream";

    public override IReadOnlyList<(string Assembly, string TypePrefixes)> Instrumented { get; } =
        [Instrument(typeof(FrameCodec), typeof(FrameCodec).Namespace!, typeof(FrameCutter).FullName!, typeof(Inbound).FullName!)];

    public override IEnumerable<(string Name, byte[] Bytes)> Seeds(string repositoryRoot)
    {
        foreach (var frame in SeedFrames.Every())
        {
            yield return ($"{(byte)frame.Type:x2}-{frame.Type}", [0, .. Codec.Encode(frame)]);
        }

        // A short conversation as a client sends it, whole and in 3-byte pieces.
        var conversation = SeedFrames.Conversation().SelectMany(Codec.Encode).ToArray();
        yield return ("conversation", [0, .. conversation]);
        yield return ("conversation-3-byte-chunks", [3, .. conversation]);
    }

    protected override bool IsDocumented(Exception exception) => false;

    protected override void Prepare() => _ = Akka.Value;

    protected override void Run(byte[] input)
    {
        if (input.Length == 0)
        {
            return;
        }

        var stream = input.AsMemory(1);
        var expected = CutWithCodec(stream.Span);
        var cut = Cut(stream, input[0]);
        if (cut.Count != expected.Count)
        {
            throw new ContractViolationException($"the cutter emitted {cut.Count} element(s); cutting with the codec gives {expected.Count}.");
        }

        for (var i = 0; i < cut.Count; i++)
        {
            var actual = cut[i].Frame is { } frame ? Codec.Encode(frame) : null;
            var (bytes, violation) = expected[i];
            if (cut[i].Violation?.Code != violation || (actual is null) != (bytes is null) || (actual is not null && !actual.AsSpan().SequenceEqual(bytes)))
            {
                throw new ContractViolationException(
                    $"element {i}: the cutter gave {Describe(cut[i])}; the codec gives {(bytes is null ? $"violation {violation}" : $"a frame of {bytes.Length} byte(s)")}.");
            }
        }
    }

    /// <summary>The frames of <paramref name="stream"/> as the codec cuts and decodes them, each checked to re-encode to its bytes.</summary>
    private static List<(byte[]? Frame, ProtocolErrorCode? Violation)> CutWithCodec(ReadOnlySpan<byte> stream)
    {
        var elements = new List<(byte[]?, ProtocolErrorCode?)>();
        while (!stream.IsEmpty)
        {
            int length;
            try
            {
                // A stream that ends inside the prefix or the frame is truncated, as the cutter reports at its end.
                length = Codec.PeekFrameLength(new System.Buffers.ReadOnlySequence<byte>(stream[..Math.Min(FrameCodec.LengthFieldBytes, stream.Length)].ToArray())) ?? int.MaxValue;
            }
            catch (ProtocolException violation)
            {
                elements.Add((null, violation.Code));
                return elements;
            }

            if (stream.Length < length)
            {
                elements.Add((null, ProtocolErrorCode.TruncatedFrame));
                return elements;
            }

            elements.Add(Decode(stream[..length]));
            stream = stream[length..];
        }

        return elements;
    }

    private static (byte[]? Frame, ProtocolErrorCode? Violation) Decode(ReadOnlySpan<byte> bytes)
    {
        Frame frame;
        try
        {
            frame = Codec.Decode(bytes);
        }
        catch (ProtocolException violation)
        {
            return (null, violation.Code);
        }

        var encoded = Codec.Encode(frame);
        if (!encoded.AsSpan().SequenceEqual(bytes))
        {
            throw new ContractViolationException(
                $"a {frame.Type} frame decoded from {Convert.ToHexString(bytes)} encodes to {Convert.ToHexString(encoded)}; the layout has one spelling.");
        }

        return (encoded, null);
    }

    private static List<Inbound> Cut(ReadOnlyMemory<byte> stream, byte chunk)
    {
        var size = chunk == 0 ? Math.Max(1, stream.Length) : chunk;
        var chunks = new List<ByteString>();
        for (var at = 0; at < stream.Length; at += size)
        {
            chunks.Add(ByteString.FromBytes(stream.Slice(at, Math.Min(size, stream.Length - at)).ToArray()));
        }

        var run = Source.From(chunks).Via(new FrameCutter(Codec)).RunWith(Sink.Seq<Inbound>(), Akka.Value.Materializer);
        if (!run.Wait(TimeSpan.FromSeconds(10)))
        {
            throw new TimeoutException($"the frame cutter did not complete on {stream.Length} byte(s) in {chunks.Count} chunk(s) within 10 s.");
        }

        return [.. run.Result];
    }

    private static string Describe(Inbound inbound) =>
        inbound.Frame is { } frame ? $"a {frame.Type} frame" : $"violation {inbound.Violation?.Code}";
}
