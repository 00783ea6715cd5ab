using Streaming.Client.Protocol;

namespace Host.Tests.Protocol;

/// <summary>Whatever bytes arrive, decoding either yields a frame or a <see cref="ProtocolException"/>; nothing else escapes.</summary>
public sealed class GarbageTests
{
    private readonly FrameCodec _codec = new(new ProtocolLimits { MaxFrameBytes = 4096 });

    private void DecodeOrRefuse(byte[] bytes, string what)
    {
        try
        {
            var frame = _codec.Decode(bytes);
            // Whatever decoded must encode back to exactly the same bytes: the layout has one spelling.
            Assert.Equal(bytes, _codec.Encode(frame));
        }
        catch (ProtocolException e)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Message), what);
            Assert.True(Enum.IsDefined(e.Code), what);
        }
        catch (Exception e)
        {
            Assert.Fail($"{what}: {e.GetType().Name} escaped the decoder: {e.Message}\n{Convert.ToHexString(bytes)}");
        }
    }

    [Fact]
    public void Random_bytes_only_ever_yield_protocol_exceptions()
    {
        var random = new Random(1);
        for (var i = 0; i < 5000; i++)
        {
            var bytes = new byte[random.Next(0, 64)];
            random.NextBytes(bytes);
            DecodeOrRefuse(bytes, $"buffer {i}");
        }
    }

    [Fact]
    public void Random_bodies_behind_a_consistent_prefix_and_a_known_type_only_ever_yield_protocol_exceptions()
    {
        var random = new Random(2);
        var types = Enum.GetValues<FrameType>();
        for (var i = 0; i < 20000; i++)
        {
            var body = new byte[random.Next(0, 80)];
            random.NextBytes(body);
            // Small counts and short ids get past the first checks and into the deeper ones.
            if (body.Length > 9 && random.Next(2) == 0)
            {
                body[8] = (byte)random.Next(0, 6);
            }

            DecodeOrRefuse(Raw.Frame((byte)types[random.Next(types.Length)], body), $"body {i}");
        }
    }

    [Fact]
    public void Valid_frames_with_random_bytes_changed_only_ever_yield_frames_or_protocol_exceptions()
    {
        var random = new Random(3);
        for (var i = 0; i < 10000; i++)
        {
            var bytes = _codec.Encode(SampleFrames.Random(random) switch
            {
                WelcomeFrame w => w with { Limits = ProtocolLimits.Default with { MaxFrameBytes = 4096 } },
                var f when _codec.EncodedLength(f) > 4096 => new PingFrame(1),
                var f => f,
            });
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                var at = random.Next(bytes.Length);
                bytes[at] = random.Next(3) switch { 0 => (byte)random.Next(256), 1 => (byte)(bytes[at] + 1), _ => (byte)(bytes[at] - 1) };
            }

            var cut = random.Next(4) == 0 ? bytes[..random.Next(bytes.Length)] : bytes;
            DecodeOrRefuse(cut, $"mutation {i}");
        }
    }
}
