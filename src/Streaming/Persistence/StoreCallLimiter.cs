namespace Streaming.Persistence;

/// <summary>
/// The store budget of one <see cref="SqlSnapshotStore"/>: at most <see cref="Connections"/> database calls at once
/// (the connection pool is sized to match), the others wait in order, and at most <see cref="MaxQueued"/> may wait; a
/// call beyond that fails at once instead of queueing without bound (its session answers StoreFailed, or its
/// checkpoint is counted as failed and tried again at the next one).
/// </summary>
// A SemaphoreSlim holds nothing to dispose unless its AvailableWaitHandle is used, which this never does.
#pragma warning disable CA1001
internal sealed class StoreCallLimiter(int connections, int maxQueued, string store)
#pragma warning restore CA1001
{
    private readonly SemaphoreSlim _slots = new(connections, connections);
    private int _waiting;

    public int Connections => connections;

    public int MaxQueued => maxQueued;

    /// <summary>Calls waiting for a connection now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Connections of the budget free now.</summary>
    public int Free => _slots.CurrentCount;

    /// <summary>
    /// Waits for a connection of the budget, in order with every other call, and holds it until <see cref="Exit"/>.
    /// Not counted against <see cref="MaxQueued"/>: for a caller that bounds its own queue (the save batcher, one
    /// waiter standing for many saves).
    /// </summary>
    public Task EnterAsync() => _slots.WaitAsync(CancellationToken.None);

    /// <summary>Gives back the connection taken by <see cref="EnterAsync"/>.</summary>
    public void Exit() => _slots.Release();

    /// <summary>Runs <paramref name="call"/> once a connection of the budget is free.</summary>
    /// <exception cref="InvalidOperationException"><see cref="MaxQueued"/> calls are waiting already.</exception>
    public async Task<T> RunAsync<T>(Func<Task<T>> call, string operation, string sessionId, CancellationToken cancellationToken)
    {
        if (!_slots.Wait(0, CancellationToken.None))
        {
            if (Interlocked.Increment(ref _waiting) > maxQueued)
            {
                Interlocked.Decrement(ref _waiting);
                throw new InvalidOperationException(
                    $"the session store {store} could not {operation} session '{sessionId}': {maxQueued} call(s) already wait for one of its {connections} connection(s) (Streaming:Store:MaxQueuedCalls); expected the database to keep up, or a larger budget (Streaming:Store:MaxConnections).");
            }

            try
            {
                await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        try
        {
            return await call().ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }
}
