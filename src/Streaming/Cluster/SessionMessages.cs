
namespace Streaming.Cluster;

/// <summary>Every message of the sharded sessions; the HOCON of <see cref="ClusterConfig"/> binds them to <see cref="SessionMessageSerializer"/>.</summary>
internal interface ISessionMessage;

/// <summary>An operation on one session, routed by its id to the session's entity on the node that owns it.</summary>
internal abstract record SessionCommand(string SessionId) : ISessionMessage
{
    /// <summary>The calling node's number for this call; the reply carries it back (a resent command keeps it).</summary>
    public long RequestId { get; init; }
}

/// <summary>The answer to a <see cref="SessionCommand"/>, sent by the owner's entity straight to the calling node.</summary>
internal abstract record SessionReply : ISessionMessage
{
    /// <summary>The <see cref="SessionCommand.RequestId"/> answered.</summary>
    public long RequestId { get; init; }
}

internal sealed record OpenCommand(string SessionId, InitialState? InitialState) : SessionCommand(SessionId);

internal sealed record PushCommand(string SessionId, Token Token) : SessionCommand(SessionId);

internal sealed record SnapshotCommand(string SessionId) : SessionCommand(SessionId);

internal sealed record RestoreCommand(string SessionId, SessionSnapshot Snapshot) : SessionCommand(SessionId);

internal sealed record ReplayCommand(string SessionId, IReadOnlyList<Token> Inputs, InitialState? From) : SessionCommand(SessionId);

internal sealed record ResetCommand(string SessionId) : SessionCommand(SessionId);

internal sealed record CloseCommand(string SessionId) : SessionCommand(SessionId);

/// <summary>The answer to an open, restore, reset or close.</summary>
internal sealed record DoneReply(string SessionId) : SessionReply;

internal sealed record OutputReply(TokenOutput Output) : SessionReply;

internal sealed record SnapshotReply(SessionSnapshot Snapshot) : SessionReply;

internal sealed record ReplayReply(ReplayResult Result) : SessionReply;

/// <summary>A refusal: an <see cref="EngineException"/> in a form that crosses nodes (code, message, session, position, a duplicate's output).</summary>
internal sealed record ErrorReply(EngineErrorCode Code, string Message, string? SessionId, long? Position) : SessionReply
{
    /// <summary>For DuplicateToken: the token's original output, when the session kept it.</summary>
    public TokenOutput? Output { get; init; }

    /// <summary>The refusal of <paramref name="error"/>; anything that is not an <see cref="EngineException"/> is reported as the owner's failure.</summary>
    public static ErrorReply From(Exception error, string sessionId)
    {
        if (error is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            error = aggregate.InnerExceptions[0];
        }

        if (error is EngineException engine)
        {
            return new ErrorReply(engine.Code, RawMessage(engine), engine.SessionId, engine.Position) { Output = engine.Output };
        }

        return new ErrorReply(EngineErrorCode.EngineStopped,
            $"the node that owns the session failed the operation: {error.GetType().Name}: {error.Message}", sessionId, null);
    }

    /// <summary>The exception the engine threw, rebuilt: same code, message, session and position.</summary>
    public EngineException ToException() => new(Code, Message, SessionId) { Position = Position, Output = Output };

    // EngineException prefixes its message with the session; the reply keeps the message as the engine wrote it.
    private static string RawMessage(EngineException error)
    {
        var prefix = error.SessionId is null ? null : $"session '{error.SessionId}': ";
        return prefix is not null && error.Message.StartsWith(prefix, StringComparison.Ordinal) ? error.Message[prefix.Length..] : error.Message;
    }
}

/// <summary>
/// The shard's hand-off stop message (rebalance, node leaving): the entity evicts its session into the store and
/// stops only after that. Never crosses nodes.
/// </summary>
internal sealed record HandOffSession : ISessionMessage
{
    public static HandOffSession Instance { get; } = new();
}

/// <summary>The stop message of the passivation an entity asks for after its session closed (nothing to save).</summary>
internal sealed record StopClosedSession : ISessionMessage
{
    public static StopClosedSession Instance { get; } = new();
}
