using Microsoft.Extensions.Logging;
using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>
/// Turns one session frame into the session-service call it asks for and the reply frames that answer it. The engine
/// call is made synchronously, on the caller's thread, so calls keep the order in which frames were read;
/// the returned task never faults: every failure becomes an Error frame for the request.
/// </summary>
internal sealed class RequestDispatcher
{
    private readonly ISessionService _sessions;
    private readonly IGenerationService? _generation;
    private readonly FrameCodec _codec;
    private readonly ILogger _logger;

    public RequestDispatcher(ISessionService sessions, FrameCodec codec, ILogger logger)
    {
        _sessions = sessions;
        _generation = sessions as IGenerationService;
        _codec = codec;
        _logger = logger;
    }

    public static RequestKind? KindOf(SessionFrame frame) => frame switch
    {
        OpenFrame => RequestKind.Open,
        TokenFrame => RequestKind.Token,
        SnapshotRequestFrame => RequestKind.Snapshot,
        RestoreFrame => RequestKind.Restore,
        ReplayFrame => RequestKind.Replay,
        ResetFrame => RequestKind.Reset,
        CloseFrame => RequestKind.Close,
        GenerateFrame => RequestKind.Generate,
        _ => null,
    };

    public Task<Reply> Start(SessionFrame frame)
    {
        try
        {
            return frame switch
            {
                OpenFrame open => Open(open),
                TokenFrame token => Push(token),
                SnapshotRequestFrame snapshot => Snapshot(snapshot),
                RestoreFrame restore => Restore(restore),
                ReplayFrame replay => Replay(replay),
                ResetFrame reset => Acknowledge(reset, _sessions.ResetAsync(reset.Session)),
                CloseFrame close => Acknowledge(close, _sessions.CloseAsync(close.Session)),
                GenerateFrame => throw new ArgumentException("a Generate streams its steps: start it with Generate", nameof(frame)),
                _ => throw new ArgumentOutOfRangeException(nameof(frame), frame.Type, "not a request frame"),
            };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Task.FromResult(Refusal(frame, e));
        }
    }

    /// <summary>
    /// Runs a generation: <paramref name="step"/> receives each GenerationStep frame as the engine delivers it (on the
    /// engine's thread, in order, before the returned task completes); the reply is the GenerationEnd, or one Error.
    /// </summary>
    public Task<Reply> Generate(GenerateFrame frame, Action<GenerationStepFrame> step, CancellationToken cancellation)
    {
        if (_generation is null)
        {
            return Task.FromResult(Reply.Refused(new ErrorFrame(frame.Session, frame.Sequence, (ushort)EngineErrorCode.GenerationNotSupported,
                $"session '{frame.Session}': generation is not served in cluster mode yet; this server's session service ({_sessions.GetType().Name}) does not generate. Run a single-node server to generate.")));
        }

        try
        {
            return GenerateSteps(_generation, frame, GenerationRequests.From(frame), step, cancellation);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Task.FromResult(Refusal(frame, e));
        }
    }

    private async Task<Reply> GenerateSteps(IGenerationService generation, GenerateFrame frame, GenerationRequest request, Action<GenerationStepFrame> step, CancellationToken cancellation)
    {
        var sent = 0;
        var position = 0L;
        int? lastId = null;
        try
        {
            await foreach (var generated in generation.GenerateAsync(frame.Session, request, cancellation).ConfigureAwait(false))
            {
                step(GenerationRequests.StepFrame(frame, generated));
                sent++;
                position = generated.Position;
                lastId = generated.TokenId;
            }
        }
        catch (EngineException e) when (e.Code == EngineErrorCode.GenerationInterrupted)
        {
            return Reply.Ok(new GenerationEndFrame(frame.Session, frame.Sequence, GenerationEndReason.Interrupted, sent, e.Position ?? position));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Refusal(frame, e);
        }

        var reason = lastId is { } id && request.StopIds.Contains(id) ? GenerationEndReason.StopId
            : sent == request.MaxSteps ? GenerationEndReason.MaxSteps
            : GenerationEndReason.Cancelled;
        return Reply.Ok(new GenerationEndFrame(frame.Session, frame.Sequence, reason, sent, position));
    }

    private Task<Reply> Open(OpenFrame open)
    {
        if (open.Model.Length > 0 && !string.Equals(open.Model, _sessions.Model.Name, StringComparison.Ordinal))
        {
            return Task.FromResult(Reply.Refused(new ErrorFrame(open.Session, open.Sequence, (ushort)EngineErrorCode.ModelMismatch,
                $"session '{open.Session}': the Open asks for model '{open.Model}' but this server serves only '{_sessions.Model.Name}'; send an empty model name for the default.")));
        }

        var initial = open.H0.IsEmpty && open.C0.IsEmpty ? null : new InitialState(open.H0, open.C0);
        return Acknowledge(open, _sessions.OpenAsync(open.Session, initial));
    }

    private async Task<Reply> Push(TokenFrame frame)
    {
        var token = (frame.Kind == TokenKind.Ids ? Token.Id(frame.Id) : Token.Vector(frame.Vector)) with { At = frame.Position };
        try
        {
            var output = await _sessions.PushAsync(frame.Session, token).ConfigureAwait(false);
            return Reply.Ok(new OutputFrame(frame.Session, frame.Sequence, output.Position - 1, output.Output));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Refusal(frame, e);
        }
    }

    private async Task<Reply> Snapshot(SnapshotRequestFrame frame)
    {
        try
        {
            var snapshot = await _sessions.SnapshotAsync(frame.Session).ConfigureAwait(false);
            return Reply.Ok(new SnapshotReplyFrame(frame.Session, frame.Sequence, snapshot.ToBytes()));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Refusal(frame, e);
        }
    }

    private Task<Reply> Restore(RestoreFrame frame)
    {
        SessionSnapshot snapshot;
        try
        {
            snapshot = SessionSnapshot.FromBytes(frame.Snapshot.Span);
        }
        catch (Exception e) when (e is not EngineException and not OutOfMemoryException)
        {
            return Task.FromResult(Reply.Refused(new ErrorFrame(frame.Session, frame.Sequence, (ushort)EngineErrorCode.MalformedSnapshot,
                $"session '{frame.Session}': the Restore's {frame.Snapshot.Length} byte(s) are not a snapshot: {e.Message}")));
        }

        return Acknowledge(frame, _sessions.RestoreAsync(frame.Session, snapshot));
    }

    private async Task<Reply> Replay(ReplayFrame frame)
    {
        var tokens = new Token[frame.Steps];
        for (var t = 0; t < tokens.Length; t++)
        {
            tokens[t] = frame.Kind == TokenKind.Ids
                ? Token.Id(frame.Ids.Span[t])
                : Token.Vector(frame.Inputs.Slice(t * frame.Width, frame.Width));
        }

        var from = frame.H0.IsEmpty && frame.C0.IsEmpty ? null : new InitialState(frame.H0, frame.C0);
        try
        {
            var result = await _sessions.ReplayAsync(frame.Session, tokens, from).ConfigureAwait(false);
            return new Reply(true, ReplayOutputs(frame, result));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Refusal(frame, e);
        }
    }

    /// <summary>The replay's outputs, cut into as few ReplayOutputs frames as the maximum frame size allows.</summary>
    private List<Frame> ReplayOutputs(ReplayFrame frame, ReplayResult result)
    {
        var steps = result.Outputs.Count;
        var width = steps == 0 ? 0 : result.Outputs[0].Length;
        var empty = new ReplayOutputsFrame(frame.Session, frame.Sequence, 0, 0, Math.Max(width, 1), ReadOnlyMemory<float>.Empty);
        var room = _codec.Limits.MaxFrameBytes - _codec.EncodedLength(empty);
        var perFrame = Math.Max(1, room / (4 * Math.Max(width, 1)));
        var first = result.Position - steps;
        var frames = new List<Frame>((steps + perFrame - 1) / perFrame);
        for (var start = 0; start < steps; start += perFrame)
        {
            var count = Math.Min(perFrame, steps - start);
            var values = new float[count * width];
            for (var s = 0; s < count; s++)
            {
                result.Outputs[start + s].Span.CopyTo(values.AsSpan(s * width, width));
            }

            frames.Add(new ReplayOutputsFrame(frame.Session, frame.Sequence, first + start, count, width, values));
        }

        return frames;
    }

    private async Task<Reply> Acknowledge(SessionFrame frame, Task work)
    {
        try
        {
            await work.ConfigureAwait(false);
            return Reply.Ok(new AckFrame(frame.Session, frame.Sequence, frame.Type));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Refusal(frame, e);
        }
    }

    private Reply Refusal(SessionFrame frame, Exception error)
    {
        if (error is EngineException engine)
        {
            return Reply.Refused(EngineRefusal.Frame(frame.Session, frame.Sequence, engine));
        }

        _logger.RequestFailed(error, frame.Session, frame.Type, frame.Sequence);
        return Reply.Refused(new ErrorFrame(frame.Session, frame.Sequence, (ushort)ProtocolErrorCode.InternalError,
            $"session '{frame.Session}': the server failed to process the {frame.Type} frame: {error.GetType().Name}: {error.Message}"));
    }
}
