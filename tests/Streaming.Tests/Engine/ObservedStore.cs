using System.Threading.Channels;
using Streaming.Persistence;

namespace Streaming.Tests.Engine;

/// <summary>An in-memory store that reports each save, so tests await passivation instead of sleeping.</summary>
internal sealed class ObservedStore : ISnapshotStore
{
    private readonly InMemorySnapshotStore _inner = new();
    private readonly Channel<string> _saved = Channel.CreateUnbounded<string>();

    public int Count => _inner.Count;

    /// <summary>Waits for the next save and returns its session id.</summary>
    public ValueTask<string> NextSaveAsync() => _saved.Reader.ReadAsync();

    public async Task SaveAsync(string sessionId, StoredSession stored, CancellationToken cancellationToken = default)
    {
        await _inner.SaveAsync(sessionId, stored, cancellationToken);
        _saved.Writer.TryWrite(sessionId);
    }

    public Task<StoredSession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default) => _inner.LoadAsync(sessionId, cancellationToken);

    public Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default) => _inner.DeleteAsync(sessionId, cancellationToken);
}
