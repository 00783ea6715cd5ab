namespace Streaming.Persistence;

/// <summary>
/// Group commit for saves: saves that arrive while every writer (or every connection of the store budget) is busy wait
/// here and go together into the next batch, one transaction on one connection. When a writer and a connection are
/// free a batch starts at once with what is waiting (so a lone save is not delayed); while batches are being written
/// the next one forms behind them. A batch holds at most <c>maxRows</c> rows and, unless it is a single row, at most <c>maxBytes</c> of
/// payload. Each caller's task completes when the transaction holding its row commits, or fails, with every other
/// caller of that batch, when it does not.
/// </summary>
/// <remarks>
/// Per persistence id: a save that arrives while an earlier save of the same id waits for a batch replaces it (the
/// higher sequence number is written, and both callers complete with that row's commit), and a save whose id is in a
/// batch being written waits for that batch to end, so two transactions never write one id at once and the table
/// keeps one row per id.
/// </remarks>
// A SemaphoreSlim holds nothing to dispose unless its AvailableWaitHandle is used, which this never does.
#pragma warning disable CA1001
internal sealed class SaveBatcher
#pragma warning restore CA1001
{
    private readonly Lock _lock = new();
    private readonly StoreCallLimiter _limiter;
    private readonly SemaphoreSlim _writers;
    private readonly int _maxRows;
    private readonly long _maxBytes;
    private readonly string _store;
    private readonly Func<IReadOnlyList<SnapshotRow>, Task> _write;

    // Everything below is guarded by _lock.
    // Saves not yet in a batch, in arrival order, and the same saves by persistence id (to merge a later save of one).
    private readonly Queue<PendingSave> _queue = new();
    private readonly Dictionary<string, PendingSave> _pending = new(StringComparer.Ordinal);
    private readonly HashSet<string> _writing = new(StringComparer.Ordinal);
    private int _waiting;
    private bool _dispatching;
    private long _batches, _rows, _saves, _failedBatches, _failedSaves;
    private int _largestBatch, _inFlight, _mostInFlight;

    /// <param name="limiter">The store budget: each batch holds one of its connections while it is written.</param>
    /// <param name="writers">The most batches written at once (SQLite: 1, since it writes one transaction at a time and concurrent writers only wait for each other).</param>
    /// <param name="maxRows">The most rows in one batch (1 writes each save in a transaction of its own).</param>
    /// <param name="maxBytes">The most payload bytes in one batch of more than one row.</param>
    /// <param name="store">The store, for errors.</param>
    /// <param name="write">Writes one batch in one transaction; throws when nothing was written.</param>
    public SaveBatcher(StoreCallLimiter limiter, int writers, int maxRows, long maxBytes, string store, Func<IReadOnlyList<SnapshotRow>, Task> write)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(writers, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        _writers = new SemaphoreSlim(writers, writers);
        _limiter = limiter;
        _maxRows = maxRows;
        _maxBytes = maxBytes;
        _store = store;
        _write = write;
    }

    /// <summary>Saves waiting for a batch now.</summary>
    public int Waiting
    {
        get
        {
            lock (_lock)
            {
                return _waiting;
            }
        }
    }

    /// <summary>What the batches have done so far.</summary>
    public SaveBatchStatistics Statistics
    {
        get
        {
            lock (_lock)
            {
                return new SaveBatchStatistics(_batches, _rows, _saves, _failedBatches, _failedSaves, _largestBatch, _mostInFlight);
            }
        }
    }

    /// <summary>
    /// Saves <paramref name="row"/> in the next batch; the task completes when that batch has committed. It fails with
    /// an <see cref="InvalidOperationException"/> at once when the writers or the budget's connections are busy and
    /// <see cref="StoreCallLimiter.MaxQueued"/> saves wait already, or later when its batch failed (rolled back; the
    /// cause is the inner exception); it is cancelled when <paramref name="cancellationToken"/> is before the save is
    /// in a batch.
    /// </summary>
    public Task SaveAsync(string sessionId, SnapshotRow row, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled(cancellationToken);
        }

        var waiter = new Waiter(sessionId);
        PendingSave? pending;
        bool start;
        lock (_lock)
        {
            // Beyond the bound, a save that could not start at once (no writer or no connection free) is refused.
            if (_waiting >= _limiter.MaxQueued && (_writers.CurrentCount == 0 || _limiter.Free == 0))
            {
                return Task.FromException(new InvalidOperationException(
                    $"the session store {_store} could not save session '{sessionId}': {_limiter.MaxQueued} save(s) already wait for one of its {_limiter.Connections} connection(s) (Streaming:Store:MaxQueuedCalls); expected the database to keep up, or a larger budget (Streaming:Store:MaxConnections)."));
            }

            if (_pending.TryGetValue(row.PersistenceId, out pending))
            {
                pending.Merge(row, waiter);
            }
            else
            {
                pending = new PendingSave(row, waiter);
                _pending.Add(row.PersistenceId, pending);
                _queue.Enqueue(pending);
            }

            _waiting++;
            start = !_dispatching;
            _dispatching = true;
        }

        if (cancellationToken.CanBeCanceled)
        {
            var registration = cancellationToken.Register(() => Cancel(pending, waiter, cancellationToken));
            waiter.Completion.Task.ContinueWith(_ => registration.Dispose(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        if (start)
        {
            // Never on the caller's thread: SQLite's driver writes synchronously, and the caller may hold a session's lock.
            _ = Task.Run(DispatchAsync, CancellationToken.None);
        }

        return waiter.Completion.Task;
    }

    // Takes a writer and a connection of the budget, then a batch of what waits, and starts writing it; again while
    // anything waits. While it waits, the next batch grows.
    private async Task DispatchAsync()
    {
        while (true)
        {
            await _writers.WaitAsync().ConfigureAwait(false);
            await _limiter.EnterAsync().ConfigureAwait(false);
            List<PendingSave>? batch;
            lock (_lock)
            {
                batch = TakeBatch();
                if (batch is null)
                {
                    // Nothing, or only saves whose ids are being written: the end of that batch starts this again.
                    _dispatching = false;
                }
                else
                {
                    _inFlight++;
                    _mostInFlight = Math.Max(_mostInFlight, _inFlight);
                }
            }

            if (batch is null)
            {
                _limiter.Exit();
                _writers.Release();
                return;
            }

            // Not inline: SQLite's driver writes synchronously, and the next batch should form meanwhile.
            _ = Task.Run(() => WriteAsync(batch), CancellationToken.None);
        }
    }

    private List<PendingSave>? TakeBatch()
    {
        List<PendingSave>? batch = null;
        long bytes = 0;
        for (var looked = _queue.Count; looked > 0 && _queue.Count > 0; looked--)
        {
            var next = _queue.Peek();
            if (next.Cancelled)
            {
                _queue.Dequeue();
                continue;
            }

            if (_writing.Contains(next.Row.PersistenceId))
            {
                // Its id is in a batch being written: it waits, behind the others, for that batch to end.
                _queue.Enqueue(_queue.Dequeue());
                continue;
            }

            if (batch is not null && (batch.Count == _maxRows || bytes + next.Row.Payload.Length > _maxBytes))
            {
                break;
            }

            _queue.Dequeue();
            _pending.Remove(next.Row.PersistenceId);
            _writing.Add(next.Row.PersistenceId);
            _waiting -= next.Waiters.Count;
            next.Taken = true;
            (batch ??= []).Add(next);
            bytes += next.Row.Payload.Length;
        }

        return batch;
    }

    private async Task WriteAsync(List<PendingSave> batch)
    {
        Exception? failure = null;
        try
        {
            await _write(batch.ConvertAll(save => save.Row)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            failure = e;
        }

        bool restart;
        lock (_lock)
        {
            _inFlight--;
            var callers = 0;
            foreach (var save in batch)
            {
                _writing.Remove(save.Row.PersistenceId);
                callers += save.Waiters.Count;
            }

            if (failure is null)
            {
                _batches++;
                _rows += batch.Count;
                _saves += callers;
                _largestBatch = Math.Max(_largestBatch, batch.Count);
            }
            else
            {
                _failedBatches++;
                _failedSaves += callers;
            }

            // Saves held back because their ids were in this batch may go now.
            restart = !_dispatching && _queue.Count > 0;
            _dispatching |= restart;
        }

        // After the bookkeeping, so a dispatcher that takes this connection sees this batch's ids free.
        _limiter.Exit();
        _writers.Release();
        if (restart)
        {
            _ = Task.Run(DispatchAsync, CancellationToken.None);
        }

        foreach (var save in batch)
        {
            foreach (var waiter in save.Waiters)
            {
                if (failure is null)
                {
                    waiter.Completion.TrySetResult();
                }
                else
                {
                    waiter.Completion.TrySetException(new InvalidOperationException(
                        $"the session store {_store} could not save session '{waiter.SessionId}': {failure.Message} (the batch of {batch.Count} save(s) it was in was rolled back; nothing of it was written)", failure));
                }
            }
        }
    }

    // A caller that gives up before its save is in a batch: its save is dropped when no other caller waits for it.
    private void Cancel(PendingSave save, Waiter waiter, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (save.Taken || !save.Waiters.Remove(waiter))
            {
                return;
            }

            _waiting--;
            if (save.Waiters.Count == 0)
            {
                save.Cancelled = true;
                _pending.Remove(save.Row.PersistenceId);
            }
        }

        waiter.Completion.TrySetCanceled(cancellationToken);
    }

    private sealed class Waiter(string sessionId)
    {
        public string SessionId { get; } = sessionId;

        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class PendingSave(SnapshotRow row, Waiter waiter)
    {
        public SnapshotRow Row { get; private set; } = row;

        public List<Waiter> Waiters { get; } = [waiter];

        /// <summary>In a batch: no longer merged into, and no longer cancellable.</summary>
        public bool Taken { get; set; }

        /// <summary>Every caller gave up before it was in a batch: skipped.</summary>
        public bool Cancelled { get; set; }

        // The latest save of the id wins: sequence numbers only grow for one id in one store.
        public void Merge(SnapshotRow later, Waiter waiter)
        {
            if (later.SequenceNr > Row.SequenceNr)
            {
                Row = later;
            }

            Waiters.Add(waiter);
        }
    }
}
