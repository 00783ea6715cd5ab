using Streaming.Cells.Managed;

namespace Streaming.Cells.Tests.Managed;

/// <summary>The managed backend's worker pool: every chunk once, on more than one thread, failures surfaced, one job at a time.</summary>
public sealed class WorkerPoolTests
{
    [Fact]
    public void Every_chunk_runs_exactly_once_and_workers_take_part()
    {
        using var pool = new WorkerPool(1);
        var work = new RecordingWork(chunks: 64);

        Assert.True(pool.TryRun(work, 64));

        Assert.All(work.Runs, count => Assert.Equal(1, count));
        Assert.True(work.WaitedForAnotherThread, "the first chunk should have seen another thread finish a chunk");
    }

    [Fact]
    public void Many_jobs_in_a_row_each_run_every_chunk_once()
    {
        using var pool = new WorkerPool(1);
        for (var job = 0; job < 2000; job++)
        {
            var chunks = job % 7 + 1;
            var work = new CountingWork(chunks);
            Assert.True(pool.TryRun(work, chunks));
            Assert.All(work.Runs, count => Assert.Equal(1, count));
        }
    }

    [Fact]
    public void A_failing_chunk_is_rethrown_to_the_caller_and_the_pool_keeps_working()
    {
        using var pool = new WorkerPool(1);

        var error = Assert.Throws<InvalidOperationException>(() => pool.TryRun(new FailingWork(), 8));

        Assert.Equal("chunk 5 failed", error.Message);
        var work = new CountingWork(8);
        Assert.True(pool.TryRun(work, 8));
        Assert.All(work.Runs, count => Assert.Equal(1, count));
    }

    [Fact]
    public void A_caller_that_finds_the_pool_busy_is_told_so_and_nothing_runs()
    {
        using var pool = new WorkerPool(1);
        var inner = new CountingWork(4);
        var outer = new NestedWork(pool, inner);

        Assert.True(pool.TryRun(outer, 1));

        Assert.False(outer.InnerRan);
        Assert.All(inner.Runs, count => Assert.Equal(0, count));
    }

    [Fact]
    public void A_disposed_pool_refuses_work()
    {
        var pool = new WorkerPool(2);
        pool.Dispose();

        Assert.Throws<ObjectDisposedException>(() => pool.TryRun(new CountingWork(1), 1));
    }

    private sealed class CountingWork(int chunks) : IParallelWork
    {
        public int[] Runs { get; } = new int[chunks];

        public void Execute(int chunk, int chunks) => Interlocked.Increment(ref Runs[chunk]);
    }

    private sealed class RecordingWork(int chunks) : IParallelWork
    {
        private readonly ManualResetEventSlim _otherThreadDone = new();
        private int _firstThread = -1;
        private int _started;

        public int[] Runs { get; } = new int[chunks];

        public bool WaitedForAnotherThread { get; private set; }

        public void Execute(int chunk, int chunks)
        {
            var thread = Environment.CurrentManagedThreadId;
            if (Interlocked.Increment(ref _started) == 1)
            {
                // Whoever takes the first chunk holds it until another thread has finished one.
                Volatile.Write(ref _firstThread, thread);
                WaitedForAnotherThread = _otherThreadDone.Wait(TimeSpan.FromSeconds(30));
            }
            else
            {
                SpinWait.SpinUntil(() => Volatile.Read(ref _firstThread) != -1);
                if (thread != Volatile.Read(ref _firstThread))
                {
                    _otherThreadDone.Set();
                }
            }

            Interlocked.Increment(ref Runs[chunk]);
        }
    }

    private sealed class FailingWork : IParallelWork
    {
        public void Execute(int chunk, int chunks)
        {
            if (chunk == 5)
            {
                throw new InvalidOperationException($"chunk {chunk} failed");
            }
        }
    }

    private sealed class NestedWork(WorkerPool pool, IParallelWork inner) : IParallelWork
    {
        public bool InnerRan { get; private set; } = true;

        public void Execute(int chunk, int chunks) => InnerRan = pool.TryRun(inner, 4);
    }
}
