using Streaming.Persistence;

namespace Streaming.Sessions;

/// <summary>
/// Something that happens to a session, as <see cref="SessionMachine"/> takes it: a caller's operation
/// (<see cref="SessionCommand"/>), an element back from the pipeline, the result of a store call, or a request of
/// the engine's lifecycle (sweep, checkpoint, eviction, shutdown, failure). Values without behaviour.
/// </summary>
internal abstract record SessionEvent
{
    private protected SessionEvent()
    {
    }

    /// <summary>A caller's operation that waited leaves the queue (the phase takes operations again, and there is room).</summary>
    public sealed record Dequeued(SessionCommand Command) : SessionEvent;

    /// <summary>An element of the session has left the pipeline's last stage.</summary>
    public sealed record ElementDone(ElementRole Role) : SessionEvent
    {
        /// <summary>For a caller's operation: which one it was (null: not said, nothing is kept of it).</summary>
        public SessionCommand? Command { get; init; }

        /// <summary>For a caller's operation: the position its element carried (the session's position after it).</summary>
        public long Position { get; init; }

        /// <summary>A caller's <paramref name="command"/> came back at <paramref name="position"/>.</summary>
        public static ElementDone Of(SessionCommand command, long position) => new(ElementRole.Operation) { Command = command, Position = position };

        public static ElementDone Operation { get; } = new(ElementRole.Operation);

        public static ElementDone Close { get; } = new(ElementRole.Close);

        public static ElementDone StoreSnapshot { get; } = new(ElementRole.StoreSnapshot);

        public static ElementDone Internal { get; } = new(ElementRole.Internal);
    }

    /// <summary>
    /// An element of the session's generation has left the pipeline; <paramref name="Continues"/>: the generation has a
    /// next element to send (false: it reached its own end: a stop id, its maximum steps, or the caller's cancel).
    /// </summary>
    public sealed record GenerationStepDone(bool Continues) : SessionEvent
    {
        public static GenerationStepDone More { get; } = new(true);

        public static GenerationStepDone Finished { get; } = new(false);
    }

    /// <summary>The store's copy was read: a snapshot, a tombstone, or nothing (null).</summary>
    public sealed record Loaded(StoredSession? Stored) : SessionEvent;

    /// <summary>Reading the store failed.</summary>
    public sealed record LoadFailed(string Why) : SessionEvent;

    /// <summary>The save (snapshot or tombstone) is in the store.</summary>
    public sealed record Saved : SessionEvent
    {
        public static Saved Instance { get; } = new();
    }

    /// <summary>The save failed; the store may or may not hold it.</summary>
    public sealed record SaveFailed(string Why) : SessionEvent;

    /// <summary>The back-off after a save the store refused at shutdown has elapsed: try again.</summary>
    public sealed record SaveRetryDue : SessionEvent
    {
        public static SaveRetryDue Instance { get; } = new();
    }

    /// <summary>The store's copy is deleted.</summary>
    public sealed record Deleted : SessionEvent
    {
        public static Deleted Instance { get; } = new();
    }

    /// <summary>Deleting the store's copy failed.</summary>
    public sealed record DeleteFailed(string Why) : SessionEvent;

    /// <summary>The registry's sweep: passivate or expire the session when it has been idle long enough.</summary>
    public sealed record Swept : SessionEvent
    {
        public static Swept Instance { get; } = new();
    }

    /// <summary>Checkpoint time: persist the session if it changed since its last save.</summary>
    public sealed record CheckpointDue : SessionEvent
    {
        public static CheckpointDue Instance { get; } = new();
    }

    /// <summary>Move the session out (shard hand-off): once idle, save it and free its slots.</summary>
    public sealed record EvictRequested : SessionEvent
    {
        public static EvictRequested Instance { get; } = new();
    }

    /// <summary>
    /// The session moved to another owner without its latest state (a hand-off gave up saving it): once idle, free its
    /// slots and leave without saving, so this stale copy can never overwrite what the new owner saves.
    /// </summary>
    public sealed record DropRequested : SessionEvent
    {
        public static DropRequested Instance { get; } = new();
    }

    /// <summary>The engine is shutting down: once idle, save the session if open, and leave.</summary>
    public sealed record ShutdownRequested : SessionEvent
    {
        public static ShutdownRequested Instance { get; } = new();
    }

    /// <summary>The pipeline failed (or the actor system stopped): nothing in flight will come back.</summary>
    public sealed record PipelineFailed(string Why) : SessionEvent;
}
