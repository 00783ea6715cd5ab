using System.Threading.Channels;
using Streaming.Persistence;

namespace Streaming.Tests.Engine;

/// <summary>
/// An in-memory store whose saves the test can hold back and let go, so it decides the order in which a session's
/// saves and deletes complete; it reports each save as it starts and each call as it ends, and counts the calls
/// that began while another call for the same session was still in flight (the engine promises none).
/// </summary>
internal sealed class ControlledStore : ISnapshotStore
{
    private readonly InMemorySnapshotStore _inner = new();
    private readonly Channel<StoredSession> _savesStarted = Channel.CreateUnbounded<StoredSession>();
    private readonly Lock _gate = new();
    private readonly HashSet<string> _busy = new(StringComparer.Ordinal);
    private TaskCompletionSource _saves = Released();
    private TaskCompletionSource _idle = Released();
    private int _calls;
    private int _overlaps;

    public int Count => _inner.Count;

    /// <summary>Calls that began while another call for the same session was in flight.</summary>
    public int Overlaps => Volatile.Read(ref _overlaps);

    /// <summary>Saves started from now on wait until <see cref="ReleaseSaves"/>.</summary>
    public void HoldSaves()
    {
        lock (_gate)
        {
            _saves = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void ReleaseSaves()
    {
        lock (_gate)
        {
            _saves.TrySetResult();
        }
    }

    /// <summary>The next save to start (held or not), with what it saves.</summary>
    public ValueTask<StoredSession> NextSaveStartedAsync() => _savesStarted.Reader.ReadAsync();

    /// <summary>Completes once no store call is in flight.</summary>
    public Task IdleAsync()
    {
        lock (_gate)
        {
            return _idle.Task;
        }
    }

    public async Task SaveAsync(string sessionId, StoredSession stored, CancellationToken cancellationToken = default)
    {
        Task saves;
        lock (_gate)
        {
            Begin(sessionId);
            saves = _saves.Task;
        }

        try
        {
            _savesStarted.Writer.TryWrite(stored);
            await saves;
            await _inner.SaveAsync(sessionId, stored, cancellationToken);
        }
        finally
        {
            End(sessionId);
        }
    }

    public async Task<StoredSession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Begin(sessionId);
        }

        try
        {
            await Task.Yield();
            return await _inner.LoadAsync(sessionId, cancellationToken);
        }
        finally
        {
            End(sessionId);
        }
    }

    public async Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            Begin(sessionId);
        }

        try
        {
            await Task.Yield();
            await _inner.DeleteAsync(sessionId, cancellationToken);
        }
        finally
        {
            End(sessionId);
        }
    }

    private static TaskCompletionSource Released()
    {
        var released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        released.SetResult();
        return released;
    }

    // Under the gate.
    private void Begin(string sessionId)
    {
        if (!_busy.Add(sessionId))
        {
            _overlaps++;
        }

        if (_calls++ == 0)
        {
            _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private void End(string sessionId)
    {
        lock (_gate)
        {
            _busy.Remove(sessionId);
            if (--_calls == 0)
            {
                _idle.TrySetResult();
            }
        }
    }
}
