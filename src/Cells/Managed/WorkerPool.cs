using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Streaming.Cells.Managed;

/// <summary>
/// A few persistent background threads that help the calling thread through the chunks of one
/// <see cref="IParallelWork"/>. Chunks are claimed from a shared counter, so a worker that the OS has
/// not scheduled yet simply gets fewer (the caller never waits for a worker that has not started a
/// chunk). Idle workers spin briefly, then block; the steady state allocates nothing. One job at a
/// time: a caller that finds the pool busy (another layer on another thread) is told so and runs its
/// work inline, which on a machine this small is what it should do anyway.
/// </summary>
internal sealed class WorkerPool : IDisposable
{
    /// <summary>Most chunks one job may have (the width of the chunk fields in the claim word).</summary>
    public const int MaxChunks = (1 << ChunkBits) - 1;

    private const int ChunkBits = 12;
    private const long ChunkMask = (1L << ChunkBits) - 1;

    // How long an idle worker (or a caller waiting for a chunk in progress) spins before blocking: long
    // enough to bridge the gaps between the products of one step, short enough not to starve other threads.
    private static readonly long SpinTicks = Stopwatch.Frequency / 10_000;

    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private IParallelWork? _work;
    private long _jobs;

    // The job's generation (high bits), chunk count and next unclaimed chunk in one word, so a claim
    // is one compare-and-swap that also proves the job is still the one the claimer saw.
    private long _claim;
    private int _completed;
    private int _wakeups;
    private int _busy;
    private int _sleepingWorkers;
    private int _callerSleeping;
    private volatile bool _stopping;
    private Exception? _failure;

    /// <summary>Starts <paramref name="workers"/> background threads.</summary>
    public WorkerPool(int workers)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(workers, 1);
        _threads = new Thread[workers];
        for (var i = 0; i < workers; i++)
        {
            _threads[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"managed-backend-worker-{i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Threads beside the caller.</summary>
    public int Workers => _threads.Length;

    /// <summary>
    /// Runs all <paramref name="chunks"/> chunks, on this thread and the workers, and returns when every
    /// one is done; false, having run nothing, when another caller holds the pool.
    /// </summary>
    public bool TryRun(IParallelWork work, int chunks)
    {
        Debug.Assert(chunks >= 1 && chunks <= MaxChunks);
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            return false;
        }

        try
        {
            _work = work;
            _failure = null;
            _completed = 0;
            // Publishing the claim word releases the writes above to whoever claims from it.
            Volatile.Write(ref _claim, (++_jobs << (2 * ChunkBits)) | ((long)chunks << ChunkBits));
            // The full fence pairs with the workers' increment of _sleepingWorkers (Dekker).
            Interlocked.Increment(ref _wakeups);
            if (Volatile.Read(ref _sleepingWorkers) > 0)
            {
                lock (_gate)
                {
                    Monitor.PulseAll(_gate);
                }
            }

            RunChunks();
            WaitForChunks(chunks);
            _work = null;
            if (_failure is { } failure)
            {
                ExceptionDispatchInfo.Throw(failure);
            }

            return true;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Stops the workers and waits for them.</summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        Interlocked.Increment(ref _wakeups);
        lock (_gate)
        {
            Monitor.PulseAll(_gate);
        }

        foreach (var thread in _threads)
        {
            thread.Join();
        }
    }

    /// <summary>Claims and runs chunks of the current job until none is left unclaimed.</summary>
    private void RunChunks()
    {
        var current = Volatile.Read(ref _claim);
        while (true)
        {
            var chunks = (int)((current >> ChunkBits) & ChunkMask);
            var next = (int)(current & ChunkMask);
            if (next >= chunks)
            {
                return;
            }

            var seen = Interlocked.CompareExchange(ref _claim, current + 1, current);
            if (seen != current)
            {
                current = seen;
                continue;
            }

            // Chunk `next` is ours: the job cannot complete, nor _work change, before we count it done.
            try
            {
                _work!.Execute(next, chunks);
            }
#pragma warning disable CA1031 // A failing chunk is handed to the caller, which rethrows it.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }

            // The full fence pairs with the caller's exchange of _callerSleeping (Dekker).
            if (Interlocked.Increment(ref _completed) == chunks && Volatile.Read(ref _callerSleeping) != 0)
            {
                lock (_gate)
                {
                    Monitor.PulseAll(_gate);
                }
            }

            current = Volatile.Read(ref _claim);
        }
    }

    private void WaitForChunks(int chunks)
    {
        var start = Stopwatch.GetTimestamp();
        while (Volatile.Read(ref _completed) != chunks)
        {
            if (Stopwatch.GetTimestamp() - start < SpinTicks)
            {
                Thread.SpinWait(8);
                continue;
            }

            Interlocked.Exchange(ref _callerSleeping, 1);
            lock (_gate)
            {
                while (Volatile.Read(ref _completed) != chunks)
                {
                    Monitor.Wait(_gate);
                }
            }

            Volatile.Write(ref _callerSleeping, 0);
        }
    }

    private void WorkerLoop()
    {
        var seen = 0;
        while (true)
        {
            seen = AwaitWakeup(seen);
            if (_stopping)
            {
                return;
            }

            RunChunks();
        }
    }

    private int AwaitWakeup(int seen)
    {
        var start = Stopwatch.GetTimestamp();
        int wakeups;
        while ((wakeups = Volatile.Read(ref _wakeups)) == seen)
        {
            if (Stopwatch.GetTimestamp() - start < SpinTicks)
            {
                Thread.SpinWait(8);
                continue;
            }

            Interlocked.Increment(ref _sleepingWorkers);
            lock (_gate)
            {
                while (Volatile.Read(ref _wakeups) == seen)
                {
                    Monitor.Wait(_gate);
                }
            }

            Interlocked.Decrement(ref _sleepingWorkers);
        }

        return wakeups;
    }
}
