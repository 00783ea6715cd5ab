using System.Threading.Channels;
using Streaming.Pipeline;

namespace Streaming.Sessions;

/// <summary>
/// A generation on its way through the session: it sends one element at a time (the prompt, in bulk or token by token,
/// or a look at the last output; then each generated token) and, as each comes back, picks the next input from its
/// output. Every step is written to <see cref="Steps"/> just before the token it fed back is sent, so whatever the
/// consumer received was consumed by the session. The session's machine decides whether the next element may go
/// (<see cref="SessionEvent.GenerationStepDone"/>); this class decides only what it is.
/// </summary>
internal sealed class GenerateOperation : SessionOperation<bool>
{
    private readonly GenerationPlan _plan;
    private readonly CancellationToken _cancellation;
    private readonly Channel<GenerationStep> _steps = Channel.CreateUnbounded<GenerationStep>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly TokenSampler? _sampler;
    private int _promptSent;
    private int _emitted;
    private int _lastId = -1;
    // What Prepare chose to send next, and the step that announces it (none while the prompt runs).
    private Element? _next;
    private GenerationStep? _announce;
    private EngineException? _failure;

    public GenerateOperation(string sessionId, GenerationPlan plan, CancellationToken cancellation)
        : base(sessionId)
    {
        _plan = plan;
        _cancellation = cancellation;
        _sampler = plan.TakesIds ? new TokenSampler(plan.Sampling, plan.OutputSize) : null;
        var bulk = plan.PromptLength >= GenerationPlan.BulkPromptFrom;
        Command = new SessionCommand.Generate(plan.PromptLength == 0 ? 0 : bulk ? plan.PromptLength : 1);
    }

    /// <summary>The steps, in order; completed when the generation ends (its task then says how).</summary>
    public ChannelReader<GenerationStep> Steps => _steps.Reader;

    public override SessionCommand Command { get; }

    // The first element: the prompt whole (long), its first token (short), or a look at the last output (none).
    public override Element ToElement(int layerCount, IElementOwner owner, long position)
    {
        var first = ((SessionCommand.Generate)Command).FirstSteps;
        _promptSent = first;
        return first switch
        {
            0 => new Element(ElementKind.Peek, SessionId, layerCount, owner) { Position = position },
            1 => PromptToken(0, layerCount, owner, position),
            _ => new Element(ElementKind.Replay, SessionId, layerCount, owner)
            {
                Data = _plan.PromptValues,
                Ids = _plan.PromptIds,
                Steps = first,
                Position = position,
            },
        };
    }

    /// <summary>
    /// <paramref name="element"/> came back: counts it and works out what comes next. False when the generation has
    /// reached its own end (the last id was a stop id, the steps are done, or the caller cancelled).
    /// </summary>
    public bool Prepare(Element element, SessionContext context)
    {
        context.Counters.TokensProcessed(element.Kind == ElementKind.Replay ? element.Steps : element.Kind == ElementKind.Token ? 1 : 0);
        if (_cancellation.IsCancellationRequested)
        {
            return false;
        }

        if (_promptSent < _plan.PromptLength)
        {
            _next = PromptToken(_promptSent, context.LayerCount, element.Owner!, 0);
            _promptSent++;
            return true;
        }

        if (_emitted == _plan.MaxSteps || _plan.StopIds.Contains(_lastId))
        {
            return false;
        }

        var size = _plan.OutputSize;
        var output = element.Data.AsMemory(element.Data.Length - size, size);
        return _plan.TakesIds ? PrepareId(output, context, element.Owner!) : PrepareVector(output, context, element.Owner!);
    }

    /// <summary>The element <see cref="Prepare"/> chose, at <paramref name="position"/>; its step goes to the consumer first.</summary>
    public Element Next(long position)
    {
        var next = _next!;
        _next = null;
        if (_announce is { } step)
        {
            _steps.Writer.TryWrite(step with { Position = position });
            _announce = null;
        }

        return new Element(next.Kind, SessionId, 0, next.Owner) { Data = next.Data, Ids = next.Ids, Position = position };
    }

    /// <summary>The generation reached its own end.</summary>
    public override void Reply(Element element, SessionContext context)
    {
        if (_failure is { } failure)
        {
            Fail(failure);
            return;
        }

        Complete(true);
        _steps.Writer.TryComplete();
    }

    public override void Fail(Exception error)
    {
        // The task first: a reader that finds the channel complete then awaits the task for how it ended.
        base.Fail(error);
        _steps.Writer.TryComplete();
    }

    private bool PrepareId(ReadOnlyMemory<float> logits, SessionContext context, IElementOwner owner)
    {
        var (id, probability) = _sampler!.Pick(logits.Span, _emitted);
        _announce = new GenerationStep(SessionId, _emitted, 0, id, probability, logits, TokenSampler.Top(logits.Span, _plan.ReportTop));
        _next = new Element(ElementKind.Token, SessionId, context.LayerCount, owner) { Ids = [id] };
        _lastId = id;
        _emitted++;
        return true;
    }

    private bool PrepareVector(ReadOnlyMemory<float> output, SessionContext context, IElementOwner owner)
    {
        var span = output.Span;
        for (var i = 0; i < span.Length; i++)
        {
            if (!float.IsFinite(span[i]))
            {
                // Fed back it would be refused as input: the generation ends here, and says why.
                _failure = new EngineException(EngineErrorCode.InvalidInput,
                    $"the model's output before step {_emitted} has the value {span[i]} at index {i}; a non-finite output cannot be fed back, so the generation stopped.", SessionId);
                return false;
            }
        }

        _announce = new GenerationStep(SessionId, _emitted, 0, null, null, output, []);
        // The element's vector is overwritten by the stages: it gets its own copy.
        _next = new Element(ElementKind.Token, SessionId, context.LayerCount, owner) { Data = span.ToArray() };
        _emitted++;
        return true;
    }

    private Element PromptToken(int index, int layerCount, IElementOwner owner, long position) =>
        _plan.PromptIds is { } ids
            ? new Element(ElementKind.Token, SessionId, layerCount, owner) { Ids = [ids[index]], Position = position }
            : new Element(ElementKind.Token, SessionId, layerCount, owner) { Data = _plan.PromptValues.AsSpan(index * _plan.InputSize, _plan.InputSize).ToArray(), Position = position };
}
