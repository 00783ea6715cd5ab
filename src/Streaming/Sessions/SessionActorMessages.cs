namespace Streaming.Sessions;

// A session actor's messages to itself: the results of its store calls.

/// <summary>The session's stored snapshot (null: none) has been loaded.</summary>
internal sealed record Loaded(SessionSnapshot? Snapshot);

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
