using System.Buffers;
using System.Buffers.Binary;

namespace Streaming.Client.Protocol;

/// <summary>
/// Encodes and decodes the frames of the TCP protocol (docs/protocol.md):
/// <c>[u32 length of what follows][u8 frame type][body]</c>, little-endian. A frame is exactly what
/// Akka's <c>Framing.LengthField(4, limits.MaxFrameBytes, 0, ByteOrder.LittleEndian)</c> emits, prefix
/// included. Decoding is strict and throws only <see cref="ProtocolException"/>; sizes are checked
/// against the bytes present before anything is allocated. Immutable and thread-safe.
/// </summary>
public sealed class FrameCodec
{
    /// <summary>The protocol version this library speaks.</summary>
    public const ushort ProtocolVersion = 1;

    /// <summary>Bytes of the length prefix that starts every frame.</summary>
    public const int LengthFieldBytes = 4;

    /// <summary>The longest session id, in UTF-8 bytes.</summary>
    public const int MaxSessionIdBytes = 128;

    /// <summary>Creates a codec that enforces <paramref name="limits"/> (<see cref="ProtocolLimits.Default"/> when null).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is out of range.</exception>
    public FrameCodec(ProtocolLimits? limits = null)
    {
        Limits = limits ?? ProtocolLimits.Default;
        Limits.Validate();
    }

    /// <summary>The magic a Hello frame starts with: the ASCII bytes <c>RNNP</c>.</summary>
    public static ReadOnlyMemory<byte> Magic { get; } = "RNNP"u8.ToArray();

    /// <summary>The limits this codec enforces; only <see cref="ProtocolLimits.MaxFrameBytes"/> concerns encoding and decoding.</summary>
    public ProtocolLimits Limits { get; }

    /// <summary>The size of <paramref name="frame"/> once encoded, length prefix included.</summary>
    /// <exception cref="ProtocolException">The frame cannot be encoded (see <see cref="Encode(Frame)"/>).</exception>
    public int EncodedLength(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        var measure = FrameWriter.Measuring();
        FrameEncoder.Write(ref measure, frame, Limits);
        return (int)measure.Length;
    }

    /// <summary>Encodes <paramref name="frame"/>, length prefix included.</summary>
    /// <exception cref="ProtocolException">
    /// The frame would be refused by a decoder: larger than the maximum frame size
    /// (<see cref="ProtocolErrorCode.FrameTooLarge"/>), an empty or over-long session id
    /// (<see cref="ProtocolErrorCode.InvalidSessionId"/>), or inconsistent fields
    /// (<see cref="ProtocolErrorCode.MalformedFrame"/>).
    /// </exception>
    public byte[] Encode(Frame frame)
    {
        var bytes = new byte[EncodedLength(frame)];
        WriteInto(frame, bytes);
        return bytes;
    }

    /// <summary>Encodes <paramref name="frame"/> into <paramref name="writer"/>, length prefix included.</summary>
    /// <exception cref="ProtocolException">As <see cref="Encode(Frame)"/>; nothing is written then.</exception>
    public void Encode(Frame frame, IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var length = EncodedLength(frame);
        WriteInto(frame, writer.GetSpan(length)[..length]);
        writer.Advance(length);
    }

    /// <summary>
    /// The length, prefix included, of the frame that starts <paramref name="buffered"/>, or null while
    /// fewer than 4 bytes are buffered; for readers that cut frames out of a byte stream themselves.
    /// </summary>
    /// <exception cref="ProtocolException">The prefix declares a frame larger than the maximum (<see cref="ProtocolErrorCode.FrameTooLarge"/>) or one without a type byte (<see cref="ProtocolErrorCode.MalformedFrame"/>).</exception>
    public int? PeekFrameLength(ReadOnlySequence<byte> buffered)
    {
        if (buffered.Length < LengthFieldBytes)
        {
            return null;
        }

        Span<byte> prefix = stackalloc byte[LengthFieldBytes];
        buffered.Slice(0, LengthFieldBytes).CopyTo(prefix);
        return CheckedFrameLength(BinaryPrimitives.ReadUInt32LittleEndian(prefix));
    }

    /// <summary>Decodes one whole frame, length prefix included; <paramref name="frame"/> must hold exactly that frame.</summary>
    /// <exception cref="ProtocolException">The bytes are not exactly one valid frame; the code and message say why.</exception>
    public Frame Decode(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < LengthFieldBytes)
        {
            throw new ProtocolException(ProtocolErrorCode.TruncatedFrame,
                $"the bytes end after {frame.Length} byte(s), inside the {LengthFieldBytes}-byte length prefix of a frame.");
        }

        var length = CheckedFrameLength(BinaryPrimitives.ReadUInt32LittleEndian(frame));
        if (frame.Length < length)
        {
            throw new ProtocolException(ProtocolErrorCode.TruncatedFrame,
                $"the length prefix declares {length - LengthFieldBytes} byte(s) after it but only {frame.Length - LengthFieldBytes} arrived.");
        }

        if (frame.Length > length)
        {
            throw new ProtocolException(ProtocolErrorCode.MalformedFrame,
                $"{frame.Length - length} byte(s) follow the end of a {length}-byte frame; decode expects exactly one frame.");
        }

        var type = frame[LengthFieldBytes];
        if (!FrameDecoder.IsKnown(type))
        {
            throw new ProtocolException(ProtocolErrorCode.UnknownFrameType,
                $"frame type 0x{type:X2} is unknown; expected 0x01-0x07, 0x10-0x18 or 0x20-0x25 (protocol version {ProtocolVersion}).");
        }

        return FrameDecoder.Body((FrameType)type, frame[(LengthFieldBytes + 1)..]);
    }

    /// <summary>Decodes one whole frame, length prefix included, from possibly many segments.</summary>
    /// <exception cref="ProtocolException">As <see cref="Decode(ReadOnlySpan{byte})"/>.</exception>
    public Frame Decode(ReadOnlySequence<byte> frame)
    {
        if (frame.IsSingleSegment)
        {
            return Decode(frame.FirstSpan);
        }

        // Check the declared length before copying, so an absurd one costs nothing.
        if (PeekFrameLength(frame) is { } length && frame.Length > length)
        {
            throw new ProtocolException(ProtocolErrorCode.MalformedFrame,
                $"{frame.Length - length} byte(s) follow the end of a {length}-byte frame; decode expects exactly one frame.");
        }

        var copy = ArrayPool<byte>.Shared.Rent((int)frame.Length);
        try
        {
            frame.CopyTo(copy);
            return Decode(copy.AsSpan(0, (int)frame.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    internal static bool IsAcknowledgeable(byte type) =>
        type is (byte)FrameType.Open or (byte)FrameType.Restore or (byte)FrameType.Reset or (byte)FrameType.Close;

    private void WriteInto(Frame frame, Span<byte> target)
    {
        var writer = FrameWriter.Into(target);
        FrameEncoder.Write(ref writer, frame, Limits);
        System.Diagnostics.Debug.Assert(writer.Length == target.Length, "the measured length is the written one");
        FrameEncoder.PatchLength(target, target.Length);
    }

    private int CheckedFrameLength(uint declared)
    {
        if (declared > (uint)(Limits.MaxFrameBytes - LengthFieldBytes))
        {
            throw new ProtocolException(ProtocolErrorCode.FrameTooLarge,
                $"the length prefix declares {declared} byte(s) after it ({(ulong)declared + LengthFieldBytes} in all); the maximum frame size is {Limits.MaxFrameBytes} bytes.");
        }

        if (declared == 0)
        {
            throw new ProtocolException(ProtocolErrorCode.MalformedFrame,
                "the length prefix declares 0 bytes after it; a frame has at least its type byte.");
        }

        return (int)declared + LengthFieldBytes;
    }
}
