namespace Streaming.Sessions;

/// <summary>Session actor to registry: "I am idle (closed, or open past PassivateAfter); stop routing to me."</summary>
internal sealed record RequestHandoff(string SessionId);

/// <summary>Registry to session actor: routing has stopped (new operations are buffered); leave, or say <see cref="KeepRouting"/>.</summary>
internal sealed record Handoff
{
    public static Handoff Instance { get; } = new();
}

/// <summary>Session actor to registry: "I am busy after all; send me what you buffered and route to me again."</summary>
internal sealed record KeepRouting(string SessionId);

/// <summary>Session actor to registry, its last word: it has nothing in flight and stops; when passivated its snapshot is in the store.</summary>
internal sealed record HandedOff(string SessionId, bool Passivated);

/// <summary>Engine to registry: finish what was accepted, save open sessions, complete the pipeline's input; replies <see cref="ShutdownComplete"/>.</summary>
internal sealed record Shutdown
{
    public static Shutdown Instance { get; } = new();
}

/// <summary>Registry to engine: every session actor has stopped and the pipeline's input is complete.</summary>
internal sealed record ShutdownComplete
{
    public static ShutdownComplete Instance { get; } = new();
}

/// <summary>Registry to session actor: finish what was accepted, save the session's snapshot if open, then stop.</summary>
internal sealed record SessionShutdown
{
    public static SessionShutdown Instance { get; } = new();
}

/// <summary>The pipeline's sink finished: with an error, or before the registry completed its input (both are failures then).</summary>
internal sealed record PipelineStopped(Exception? Error);

/// <summary>Registry to session actor: the pipeline is gone; fail everything pending with EngineStopped and stop.</summary>
internal sealed record PipelineFailed(Exception Error);
