namespace Streaming.Persistence;

/// <summary>
/// Where sessions persist: the engine saves a session's <see cref="StoredSession"/> when it passivates, at each
/// checkpoint, when it is evicted (shard hand-off) and when the engine shuts down with it open; it loads it on the
/// session's next operation (on this engine or another that shares the store), and deletes it when the session is
/// closed. An engine makes at most one call per session at a time: it starts a session's next call only once the
/// previous one has completed, so a delete never races a save of the same session and the last call to complete is
/// the last one made. Implementations must be safe to call concurrently for different sessions.
/// </summary>
public interface ISnapshotStore
{
    /// <summary>Stores (or replaces) what is kept of <paramref name="sessionId"/>.</summary>
    Task SaveAsync(string sessionId, StoredSession stored, CancellationToken cancellationToken = default);

    /// <summary>What is stored of <paramref name="sessionId"/>, or null when nothing is.</summary>
    Task<StoredSession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default);

    /// <summary>Forgets <paramref name="sessionId"/>; no error when nothing is stored.</summary>
    Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default);
}
