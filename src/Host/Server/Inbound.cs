using Streaming.Host.Protocol;

namespace Streaming.Host.Server;

/// <summary>What the connection stage receives: a decoded frame, or the protocol violation that took its place.</summary>
internal sealed record Inbound(Frame? Frame, ProtocolException? Violation)
{
    public static Inbound Decode(FrameCodec codec, byte[] bytes)
    {
        try
        {
            return new Inbound(codec.Decode(bytes), null);
        }
        catch (ProtocolException e)
        {
            return new Inbound(null, e);
        }
    }

    /// <summary>Akka's length-field framing failed: the stream ended inside a frame, or a prefix declared too much.</summary>
    public static Inbound FramingFailed(Exception error, int maxFrameBytes) =>
        // Akka's framing stage says which in its message only; "Stream finished" is its truncation message.
        new(null, error.Message.StartsWith("Stream finished", StringComparison.Ordinal)
            ? new ProtocolException(ProtocolErrorCode.TruncatedFrame, "the connection ended inside a frame: fewer bytes arrived than its length prefix declares.")
            : new ProtocolException(ProtocolErrorCode.FrameTooLarge,
                $"a length prefix declares a frame larger than the maximum frame size of {maxFrameBytes} bytes, prefix included ({error.Message})."));
}
