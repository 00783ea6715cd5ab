using System.Buffers;
using Streaming.Client.Protocol;

namespace Streaming.TestSupport;

/// <summary>Reads whole frames of the protocol from a stream, for the tests' raw clients and scripted servers.</summary>
internal static class FrameReading
{
    /// <summary>The next frame, or null when the peer closed the stream before another one began.</summary>
    public static async Task<Frame?> ReadFrameAsync(Stream stream, FrameCodec codec)
    {
        var prefix = new byte[4];
        if (await stream.ReadAtLeastAsync(prefix, 4, throwOnEndOfStream: false) < 4)
        {
            return null;
        }

        var frame = new byte[codec.PeekFrameLength(new ReadOnlySequence<byte>(prefix))!.Value];
        prefix.CopyTo(frame, 0);
        await stream.ReadExactlyAsync(frame.AsMemory(4));
        return codec.Decode(frame);
    }
}
