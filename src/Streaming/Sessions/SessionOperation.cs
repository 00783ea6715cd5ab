using Streaming.Pipeline;

namespace Streaming.Sessions;

/// <summary>
/// A caller's request for one session, on its way to (or waiting in) the session's entry. It carries the caller's
/// completion, the <see cref="SessionCommand"/> the session's machine decides on, and the data its element carries;
/// inputs are validated against the model before an operation is created.
/// </summary>
internal abstract class SessionOperation(string sessionId)
{
    public string SessionId { get; } = sessionId;

    /// <summary>What the session's machine needs to know of it.</summary>
    public abstract SessionCommand Command { get; }

    /// <summary>The element that applies it, for <paramref name="owner"/>, at the session's position once applied.</summary>
    public abstract Element ToElement(int layerCount, IElementOwner owner, long position);

    /// <summary>Completes the caller's task with <paramref name="error"/>; no effect when already completed.</summary>
    public abstract void Fail(Exception error);

    /// <summary>Completes the caller's task with the result <paramref name="element"/> brought back from the pipeline.</summary>
    public abstract void Reply(Element element, SessionContext context);
}

/// <summary>An operation whose caller waits for a value of type <typeparamref name="T"/>.</summary>
internal abstract class SessionOperation<T>(string sessionId) : SessionOperation(sessionId)
{
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<T> Task => _completion.Task;

    public void Complete(T value) => _completion.TrySetResult(value);

    public override void Fail(Exception error) => _completion.TrySetException(error);
}

/// <summary>An operation whose caller waits for its completion only.</summary>
internal abstract class CompletionOperation(string sessionId) : SessionOperation<bool>(sessionId)
{
    public override void Reply(Element element, SessionContext context) => Complete(true);
}

/// <summary>Opens the session from the given per-layer states (null: zeros).</summary>
internal sealed class OpenOperation(string sessionId, IReadOnlyList<LayerState>? states) : CompletionOperation(sessionId)
{
    public IReadOnlyList<LayerState>? States { get; } = states;

    public override SessionCommand Command => SessionCommand.Open.Instance;

    public override Element ToElement(int layerCount, IElementOwner owner, long position) =>
        new(ElementKind.Open, SessionId, layerCount, owner) { States = States, Position = position };
}

/// <summary>One token: a checked copy of the vector, or an id within the vocabulary.</summary>
internal sealed class PushOperation(string sessionId, float[] values, int[]? ids, long? at) : SessionOperation<TokenOutput>(sessionId)
{
    public float[] Values { get; } = values;

    public int[]? Ids { get; } = ids;

    /// <summary>The position the token must have (<see cref="Token.At"/>), or anywhere.</summary>
    public override SessionCommand Command { get; } = at is null ? SessionCommand.Push.Anywhere : new SessionCommand.Push(at);

    public override Element ToElement(int layerCount, IElementOwner owner, long position) =>
        new(ElementKind.Token, SessionId, layerCount, owner) { Data = Values, Ids = Ids, Position = position };

    public override void Reply(Element element, SessionContext context)
    {
        context.Counters.TokensProcessed(1);
        Complete(new TokenOutput(SessionId, element.Position, element.Data));
    }
}

/// <summary>Reads the session's state.</summary>
internal sealed class SnapshotOperation(string sessionId) : SessionOperation<SessionSnapshot>(sessionId)
{
    public override SessionCommand Command => SessionCommand.Snapshot.Instance;

    public override Element ToElement(int layerCount, IElementOwner owner, long position) =>
        new(ElementKind.Snapshot, SessionId, layerCount, owner) { Position = position };

    public override void Reply(Element element, SessionContext context) =>
        Complete(new SessionSnapshot(context.Model, element.Position, element.Collected!));
}

/// <summary>Installs a snapshot that fits the model.</summary>
internal sealed class RestoreOperation(string sessionId, SessionSnapshot snapshot) : CompletionOperation(sessionId)
{
    public SessionSnapshot Snapshot { get; } = snapshot;

    public override SessionCommand Command { get; } = new SessionCommand.Restore(snapshot.Position);

    public override Element ToElement(int layerCount, IElementOwner owner, long position) =>
        new(ElementKind.Restore, SessionId, layerCount, owner) { States = Snapshot.Layers, Position = position };
}

/// <summary>A whole sequence in bulk: (steps, input_size) checked values, or ids; from the given states or the session's own.</summary>
internal sealed class ReplayOperation(string sessionId, float[] values, int[]? ids, int steps, IReadOnlyList<LayerState>? from)
    : SessionOperation<ReplayResult>(sessionId)
{
    public float[] Values { get; } = values;

    public int[]? Ids { get; } = ids;

    public int Steps { get; } = steps;

    public IReadOnlyList<LayerState>? From { get; } = from;

    public override SessionCommand Command { get; } = new SessionCommand.Replay(steps);

    public override Element ToElement(int layerCount, IElementOwner owner, long position) =>
        new(ElementKind.Replay, SessionId, layerCount, owner) { Data = Values, Ids = Ids, Steps = Steps, States = From, Position = position };

    public override void Reply(Element element, SessionContext context)
    {
        var size = element.Data.Length / Steps;
        var outputs = new ReadOnlyMemory<float>[Steps];
        for (var t = 0; t < outputs.Length; t++)
        {
            outputs[t] = element.Data.AsMemory(t * size, size);
        }

        context.Counters.TokensProcessed(Steps);
        Complete(new ReplayResult(SessionId, element.Position, outputs));
    }
}

/// <summary>Zeros the session's state and position.</summary>
internal sealed class ResetOperation(string sessionId) : CompletionOperation(sessionId)
{
    public override SessionCommand Command => SessionCommand.Reset.Instance;

    public override Element ToElement(int layerCount, IElementOwner owner, long position) =>
        new(ElementKind.Reset, SessionId, layerCount, owner) { Position = position };
}

/// <summary>Closes the session; answered once its element has freed the slots and what the store held of it is deleted.</summary>
internal sealed class CloseOperation(string sessionId) : CompletionOperation(sessionId)
{
    public override SessionCommand Command => SessionCommand.Close.Instance;

    public override Element ToElement(int layerCount, IElementOwner owner, long position) =>
        new(ElementKind.Close, SessionId, layerCount, owner) { Position = position };
}
