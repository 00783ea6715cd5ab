using System.Buffers;

namespace Host.Tests.Protocol;

/// <summary>Builds multi-segment sequences, as a socket's reads deliver them.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Split(byte[] bytes, int size)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Segment? first = null, last = null;
        for (var at = 0; at < bytes.Length; at += size)
        {
            var chunk = bytes.AsMemory(at, Math.Min(size, bytes.Length - at));
            last = last is null ? first = new Segment(chunk, 0) : last.Append(chunk);
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
