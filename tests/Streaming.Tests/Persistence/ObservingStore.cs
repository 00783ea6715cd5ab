using System.Threading.Channels;
using Streaming.Persistence;

namespace Streaming.Tests.Persistence;

/// <summary>Passes every call to a real store and reports each save, so tests await passivation instead of sleeping.</summary>
internal sealed class ObservingStore(ISnapshotStore inner) : ISnapshotStore
{
    private readonly Channel<string> _saved = Channel.CreateUnbounded<string>();

    /// <summary>Waits for the next save and returns its session id.</summary>
    public ValueTask<string> NextSaveAsync() => _saved.Reader.ReadAsync();

    public async Task SaveAsync(string sessionId, StoredSession stored, CancellationToken cancellationToken = default)
    {
        await inner.SaveAsync(sessionId, stored, cancellationToken);
        _saved.Writer.TryWrite(sessionId);
    }

    public Task<StoredSession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default) => inner.LoadAsync(sessionId, cancellationToken);

    public Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default) => inner.DeleteAsync(sessionId, cancellationToken);
}
