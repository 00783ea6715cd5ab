using System.Threading.Channels;
using Streaming.Client.Protocol;

namespace Streaming.Client;

/// <summary>
/// A generation the client waits on: its steps go into a channel as they arrive (the reader loop never waits on the
/// consumer; the server holds no more than its own bound of steps ahead), and the GenerationEnd or an Error ends it.
/// </summary>
internal sealed class PendingGeneration : PendingRequest
{
    private readonly string _session;
    private readonly Channel<GenerationStep> _steps = Channel.CreateUnbounded<GenerationStep>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });
    private readonly TaskCompletionSource<GenerationEndFrame> _end = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PendingGeneration(string session) => _session = session;

    public ChannelReader<GenerationStep> Steps => _steps.Reader;

    /// <summary>The generation's end frame, or the error that ended it.</summary>
    public Task<GenerationEndFrame> End => _end.Task;

    public override bool Accept(Frame frame)
    {
        switch (frame)
        {
            case GenerationStepFrame step:
                _steps.Writer.TryWrite(step.Kind == TokenKind.Ids
                    ? new GenerationStep(_session, step.Step, step.Position, step.TokenId, step.Probability, ReadOnlyMemory<float>.Empty, step.Top)
                    : new GenerationStep(_session, step.Step, step.Position, null, null, step.Output, []));
                return false;
            case GenerationEndFrame end:
                _end.TrySetResult(end);
                _steps.Writer.TryComplete();
                return true;
            default:
                Fail(new StreamingClientException(0, $"the server answered a Generate with a {frame.Type} frame; expected GenerationStep or GenerationEnd.", _session));
                return true;
        }
    }

    public override void Fail(Exception error)
    {
        _end.TrySetException(error);
        _steps.Writer.TryComplete(error);
    }
}
