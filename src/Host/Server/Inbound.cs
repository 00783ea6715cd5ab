using Streaming.Client.Protocol;

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
}
