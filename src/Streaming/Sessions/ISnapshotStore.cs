namespace Streaming.Sessions;

/// <summary>
/// Where passivated sessions' snapshots go. The engine uses it when a session idles out and when it
/// shuts down with sessions open; durable implementations (Akka.Persistence) come with the host.
/// </summary>
public interface ISnapshotStore
{
    /// <summary>Stores (or replaces) the snapshot of <paramref name="sessionId"/>.</summary>
    Task SaveAsync(string sessionId, SessionSnapshot snapshot, CancellationToken cancellationToken = default);

    /// <summary>The stored snapshot of <paramref name="sessionId"/>, or null when there is none.</summary>
    Task<SessionSnapshot?> LoadAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Forgets <paramref name="sessionId"/>'s snapshot; no error when there is none.</summary>
    Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default);
}
