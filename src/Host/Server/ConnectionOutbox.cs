using System.Buffers;
using Akka.IO;
using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>
/// The frames one connection has to write, encoded once, when they are queued, and written in order in chunks of up to
/// <see cref="ChunkBytes"/> (a chunk ends after the entry that reaches it, so one large reply is never split). Used on the
/// connection stage's thread only.
/// </summary>
internal sealed class ConnectionOutbox(FrameCodec codec, ServerCounters counters)
{
    /// <summary>How many bytes one written element gathers before it ends.</summary>
    public const int ChunkBytes = 64 * 1024;

    private readonly Queue<(EncodedFrames Frames, bool Counted)> _queue = new();

    public bool IsEmpty => _queue.Count == 0;

    /// <summary>
    /// Encodes <paramref name="frames"/>; a reply the protocol cannot carry (a snapshot over the frame size) becomes an
    /// InternalError for its request instead, so whatever is encoded can be written.
    /// </summary>
    public EncodedFrames Encode(IReadOnlyList<Frame> frames)
    {
        if (frames.Count == 1)
        {
            var (bytes, error) = EncodeOne(frames[0]);
            return new EncodedFrames(bytes, 1, error is { } code ? [code] : []);
        }

        var buffer = new ArrayBufferWriter<byte>();
        var errors = new List<ushort>();
        foreach (var frame in frames)
        {
            var (bytes, error) = EncodeOne(frame);
            buffer.Write(bytes);
            if (error is { } code)
            {
                errors.Add(code);
            }
        }

        return new EncodedFrames(buffer.WrittenSpan.ToArray(), frames.Count, errors);
    }

    /// <summary>Queues encoded frames; <paramref name="counted"/> says whether they answer a request the ledger counts.</summary>
    public void Enqueue(EncodedFrames frames, bool counted) => _queue.Enqueue((frames, counted));

    /// <summary>Takes the next chunk to write: its bytes, how many counted replies and how many bytes it holds.</summary>
    public (ByteString Bytes, int Replies, long Length) TakeChunk()
    {
        if (_queue.Count == 1 || _queue.Peek().Frames.Length >= ChunkBytes)
        {
            var (frames, counted) = _queue.Dequeue();
            Sent(frames);
            return (ByteString.FromBytes(frames.Bytes), counted ? 1 : 0, frames.Length);
        }

        var segments = new List<ArraySegment<byte>>();
        var replies = 0;
        long length = 0;
        while (_queue.Count > 0 && length < ChunkBytes)
        {
            var (frames, counted) = _queue.Dequeue();
            Sent(frames);
            segments.Add(frames.Bytes);
            length += frames.Length;
            replies += counted ? 1 : 0;
        }

        // Wrapped, not copied: every array was encoded for this write alone.
        return (ByteString.FromBytes(segments), replies, length);
    }

    private (byte[] Bytes, ushort? ErrorCode) EncodeOne(Frame frame)
    {
        try
        {
            return (codec.Encode(frame), (frame as ErrorFrame)?.Code);
        }
        catch (ProtocolException e) when (frame is SessionFrame reply)
        {
            var error = new ErrorFrame(reply.Session, reply.Sequence, (ushort)ProtocolErrorCode.InternalError,
                $"session '{reply.Session}': the {reply.Type} reply cannot be sent: {e.Message}");
            return (codec.Encode(error), error.Code);
        }
    }

    private void Sent(EncodedFrames frames)
    {
        counters.FramesSent(frames.Count);
        foreach (var code in frames.ErrorCodes)
        {
            counters.ErrorSent(code);
        }
    }
}
