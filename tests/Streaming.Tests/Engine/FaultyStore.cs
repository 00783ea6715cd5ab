using System.Threading.Channels;
using Streaming.Persistence;

namespace Streaming.Tests.Engine;

/// <summary>
/// An in-memory store that can go down and come back: while down, every call fails as a database that cannot be
/// reached does (the write never lands). It reports every call as it ends, so a test awaits what the engine did
/// instead of sleeping.
/// </summary>
internal sealed class FaultyStore : ISnapshotStore
{
    private readonly InMemorySnapshotStore _inner = new();
    private readonly Channel<Call> _ended = Channel.CreateUnbounded<Call>();
    private volatile bool _down;

    /// <summary>What the store holds of <paramref name="sessionId"/>, read past the outage.</summary>
    public Task<StoredSession?> PeekAsync(string sessionId) => _inner.LoadAsync(sessionId);

    public void GoDown() => _down = true;

    public void ComeBack() => _down = false;

    /// <summary>The next call to end that <paramref name="matches"/> (earlier ones are passed over).</summary>
    public async Task<Call> NextAsync(Func<Call, bool> matches)
    {
        while (true)
        {
            var call = await _ended.Reader.ReadAsync();
            if (matches(call))
            {
                return call;
            }
        }
    }

    public async Task SaveAsync(string sessionId, StoredSession stored, CancellationToken cancellationToken = default)
    {
        // Down or not when the call is made: a call made while down fails even if the store comes back meanwhile.
        var failed = _down;
        await Task.Yield();
        try
        {
            ThrowIfDown(failed, "save", sessionId);
            await _inner.SaveAsync(sessionId, stored, cancellationToken);
        }
        finally
        {
            _ended.Writer.TryWrite(new Call(CallKind.Save, sessionId, stored.Snapshot?.Position, failed));
        }
    }

    public async Task<StoredSession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var failed = _down;
        await Task.Yield();
        try
        {
            ThrowIfDown(failed, "load", sessionId);
            return await _inner.LoadAsync(sessionId, cancellationToken);
        }
        finally
        {
            _ended.Writer.TryWrite(new Call(CallKind.Load, sessionId, null, failed));
        }
    }

    public async Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var failed = _down;
        await Task.Yield();
        try
        {
            ThrowIfDown(failed, "delete", sessionId);
            await _inner.DeleteAsync(sessionId, cancellationToken);
        }
        finally
        {
            _ended.Writer.TryWrite(new Call(CallKind.Delete, sessionId, null, failed));
        }
    }

    private static void ThrowIfDown(bool down, string operation, string sessionId)
    {
        if (down)
        {
            throw new InvalidOperationException($"the test's store is down: could not {operation} session '{sessionId}' (connection refused)");
        }
    }

    public enum CallKind
    {
        Load,
        Save,
        Delete,
    }

    /// <summary>A store call that ended: what it was, for which session, the position it saved, and whether it failed.</summary>
    public sealed record Call(CallKind Kind, string SessionId, long? Position, bool Failed);
}
