using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>What answers one request: its reply frames (one Error when refused) and whether it succeeded.</summary>
internal sealed record Reply(bool Succeeded, IReadOnlyList<Frame> Frames)
{
    public static Reply Ok(Frame frame) => new(true, [frame]);

    public static Reply Refused(ErrorFrame error) => new(false, [error]);
}
