using Streaming.Persistence;
using Streaming.Pipeline;

namespace Streaming.Sessions;

/// <summary>Engine to registry: a new (held) entry needs its actor, which loads the session from the store.</summary>
internal sealed record Activate(SessionEntry Entry);

/// <summary>Registry to itself, every half <see cref="EngineOptions.PassivateAfter"/>: passivate the entries idle that long.</summary>
internal sealed record Sweep
{
    public static Sweep Instance { get; } = new();
}

/// <summary>Registry to itself, every <see cref="EngineOptions.CheckpointEvery"/>: persist the sessions that changed.</summary>
internal sealed record Checkpoint
{
    public static Checkpoint Instance { get; } = new();
}

/// <summary>Engine to registry: save the session (once idle) into the store and free its slots; completes with whether it did.</summary>
internal sealed record Evict(string SessionId, TaskCompletionSource<bool> Completion);

/// <summary>Engine to registry: finish what was accepted, save open sessions, complete the pipeline's input; replies <see cref="ShutdownComplete"/>.</summary>
internal sealed record Shutdown
{
    public static Shutdown Instance { get; } = new();
}

/// <summary>Registry to engine: every session has been saved or closed and the pipeline's input is complete.</summary>
internal sealed record ShutdownComplete
{
    public static ShutdownComplete Instance { get; } = new();
}

/// <summary>The pipeline's sink finished: with an error, or before the registry completed its input (both are failures then).</summary>
internal sealed record PipelineStopped(Exception? Error);

/// <summary>Registry to session actor: the pipeline is gone; stop.</summary>
internal sealed record PipelineFailed(Exception Error);
