using System.Collections.Concurrent;

namespace Streaming.Persistence;

/// <summary>A process-local <see cref="ISnapshotStore"/>: passivation frees compute slots, but nothing survives the process.</summary>
public sealed class InMemorySnapshotStore : ISnapshotStore
{
    private readonly ConcurrentDictionary<string, StoredSession> _snapshots = new(StringComparer.Ordinal);

    /// <summary>Sessions currently stored.</summary>
    public int Count => _snapshots.Count;

    /// <inheritdoc />
    public Task SaveAsync(string sessionId, StoredSession stored, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        ArgumentNullException.ThrowIfNull(stored);
        _snapshots[sessionId] = stored;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<StoredSession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        return Task.FromResult(_snapshots.TryGetValue(sessionId, out var stored) ? stored : null);
    }

    /// <inheritdoc />
    public Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        _snapshots.TryRemove(sessionId, out _);
        return Task.CompletedTask;
    }
}
