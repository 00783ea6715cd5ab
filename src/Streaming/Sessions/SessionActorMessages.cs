using Streaming.Persistence;
using Streaming.Pipeline;

namespace Streaming.Sessions;

/// <summary>What the registry asks of a session's lifecycle actor.</summary>
internal enum LifecyclePhase
{
    /// <summary>Load the session's snapshot from the store (present after a passivation or a shutdown) and resume it.</summary>
    Load,

    /// <summary>Snapshot the idle session (its entry is held already), save it, free its slots.</summary>
    Passivate,

    /// <summary>Once everything accepted has finished, save the session if open, then leave.</summary>
    Shutdown,

    /// <summary>Once everything accepted has finished, save the session and free its slots (it moves, e.g. shard hand-off).</summary>
    Evict,

    /// <summary>Snapshot the changed session in order with its tokens and save it; it keeps running.</summary>
    Checkpoint,

    /// <summary>Replace the idle session (held already) in the store by a tombstone and free its slots.</summary>
    Expire,
}

/// <summary>Registry to session actor: the engine is shutting down; save the session once it is idle.</summary>
internal sealed record SessionShutdown
{
    public static SessionShutdown Instance { get; } = new();
}

/// <summary>Entry to session actor: everything accepted has finished (the actor asked to hold it when idle).</summary>
internal sealed record EntryIdle
{
    public static EntryIdle Instance { get; } = new();
}

// A session actor's messages to itself: the results of its store calls.

/// <summary>The session's stored snapshot (null: none) has been loaded.</summary>
internal sealed record Loaded(StoredSession? Stored);

/// <summary>The snapshot has been saved.</summary>
internal sealed record Saved
{
    public static Saved Instance { get; } = new();
}

/// <summary>The stored snapshot has been deleted.</summary>
internal sealed record Deleted
{
    public static Deleted Instance { get; } = new();
}

/// <summary>A store call failed.</summary>
internal sealed record StoreFailed(Exception Error);
