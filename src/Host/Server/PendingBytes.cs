using Streaming.Cells.Model;
using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>
/// How many bytes a connection's requests and replies hold in the server's memory, as the connection stage counts them
/// against <see cref="ServerOptions.MaxPendingBytesPerConnection"/>. A request read is charged its own bytes plus the
/// bytes its reply will take (a replay's outputs can be hundreds of times its inputs), so that what the server has
/// read can never grow past the bound by the time it is answered; once answered, the charge becomes the reply's
/// encoded size (<see cref="ConnectionLedger.Answered"/>), until it is written.
/// </summary>
internal sealed class PendingBytes(FrameCodec codec, ModelSpec spec)
{
    // Prefix, type, sequence, id length and the fixed fields of any reply, before the session id.
    private const int ReplyOverhead = 48;

    /// <summary>What reading <paramref name="request"/> charges: the request itself and the largest reply it can get.</summary>
    public long ChargeFor(SessionFrame request) => Measure(request) + ReplyFor(request);

    private long ReplyFor(SessionFrame request)
    {
        var header = ReplyOverhead + request.Session.Length;
        var output = 4L * spec.OutputSize;
        return request switch
        {
            TokenFrame => header + output,
            ReplayFrame replay => ((long)header * (1 + (replay.Steps * output / codec.Limits.MaxFrameBytes))) + (replay.Steps * output),
            SnapshotRequestFrame => header + 256 + (4L * spec.Recurrent.NumLayers * spec.Recurrent.Directions * (spec.Recurrent.OutputSize + spec.Recurrent.HiddenSize)),
            GenerateFrame generate => Generation(generate, header),
            _ => header + 512,
        };
    }

    /// <summary>
    /// Every step the generation may send, as a frame (the id, its probability and the top entries, or the vector) plus
    /// the engine's record of it until the stage takes it (the output it was taken from), and the end frame. The engine
    /// refuses more than <see cref="GenerationRequest.MaxStepsLimit"/> steps or top entries beyond its limit.
    /// </summary>
    private long Generation(GenerateFrame generate, int header)
    {
        var steps = Math.Clamp(generate.MaxSteps, 0, GenerationRequest.MaxStepsLimit);
        var top = Math.Clamp(generate.ReportTop, 0, GenerationRequest.ReportTopLimit);
        var frame = header + 16 + (12L * top) + (4L * spec.OutputSize);
        var record = 128 + (4L * spec.OutputSize) + (24L * top);
        return header + 16 + (steps * (frame + record));
    }

    private long Measure(Frame frame)
    {
        try
        {
            return codec.EncodedLength(frame);
        }
        catch (ProtocolException)
        {
            // A request the decoder accepted always encodes; this is only a guard, charged as a large Error.
            return ReplyOverhead + 1024;
        }
    }
}
