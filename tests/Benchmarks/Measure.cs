using System.Diagnostics;

namespace Streaming.Benchmarks;

/// <summary>Repeats an action and reports the median, so one noisy repetition does not decide a figure.</summary>
internal static class Measure
{
    /// <summary>Median seconds per call of <paramref name="action"/> over <paramref name="repetitions"/> timed calls after <paramref name="warmup"/> untimed ones.</summary>
    public static double MedianSeconds(Action action, int repetitions, int warmup = 1)
    {
        for (var i = 0; i < warmup; i++)
        {
            action();
        }

        var times = new double[repetitions];
        for (var i = 0; i < repetitions; i++)
        {
            var start = Stopwatch.GetTimestamp();
            action();
            times[i] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        Array.Sort(times);
        return times[repetitions / 2];
    }

    /// <summary>
    /// Calls <paramref name="action"/> until <paramref name="atLeast"/> of wall time has passed (at least once): the
    /// engine's hot methods run a few hundred times a second, so a warm-up counted in calls leaves them at tier 0, and
    /// tiered compilation only promotes code some 100 ms after the last new method was compiled.
    /// </summary>
    public static void WarmUp(Action action, TimeSpan atLeast)
    {
        var until = Stopwatch.GetTimestamp() + (long)(atLeast.TotalSeconds * Stopwatch.Frequency);
        do
        {
            action();
        }
        while (Stopwatch.GetTimestamp() < until);
    }

    /// <summary>
    /// <see cref="MedianSeconds"/> without a warm-up, with the process's CPU time over all <paramref name="repetitions"/>
    /// (every thread, in seconds) and the cores it kept busy on average meanwhile (CPU time over wall time).
    /// </summary>
    public static (double Median, double CpuSeconds, double CoresBusy) MedianSecondsAndCpu(Action action, int repetitions)
    {
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var start = Stopwatch.GetTimestamp();
        var median = MedianSeconds(action, repetitions, warmup: 0);
        var wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        process.Refresh();
        var cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        return (median, cpu, cpu / wall);
    }

    /// <summary>
    /// Median seconds of one call, timing batches of <paramref name="callsPerSample"/> calls to rise above timer
    /// resolution. Warms up for <paramref name="warmup"/> of wall time first (default one second): .NET's tiered
    /// JIT only swaps in optimised code some 100 ms after the last new method was compiled, so a warm-up counted
    /// in calls can leave fast code timed at tier 0.
    /// </summary>
    public static double MedianSecondsPerCall(Action action, int callsPerSample, int samples, TimeSpan? warmup = null)
    {
        var until = Stopwatch.GetTimestamp() + (long)((warmup ?? TimeSpan.FromSeconds(1)).TotalSeconds * Stopwatch.Frequency);
        do
        {
            for (var i = 0; i < callsPerSample; i++)
            {
                action();
            }
        }
        while (Stopwatch.GetTimestamp() < until);

        return MedianSeconds(
            () =>
            {
                for (var i = 0; i < callsPerSample; i++)
                {
                    action();
                }
            },
            samples,
            warmup: 0) / callsPerSample;
    }

    /// <summary>
    /// Open loop: call i of <paramref name="count"/> is due at i / <paramref name="rate"/> seconds whatever the answers
    /// before it did. The pacer sleeps between rounds (about a millisecond) and sends every call that has come due, so it
    /// does not hold a core of its own (on two cores a spinning pacer left the engine one); a call's latency runs from
    /// its send to the completion of its task (a synchronous continuation, so no thread-pool queueing is added). Also
    /// reports what happened meanwhile that can make a tail: garbage collections and their pause time, and the thread
    /// pool's growth.
    /// </summary>
    public static PacedResult Paced(Func<int, Task> send, double rate, int count)
    {
        var latencies = new double[count];
        // Nothing of an answered call is kept but its latency: holding every reply until the end (as a list of the tasks
        // would) made each collection promote megabytes that a server lets go at once, and the pauses grew with it.
        var remaining = count;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gen0 = GC.CollectionCount(0);
        var gen1 = GC.CollectionCount(1);
        var gen2 = GC.CollectionCount(2);
        var paused = GC.GetTotalPauseDuration();
        var threads = ThreadPool.ThreadCount;
        // How late each call left against its schedule (the pacer sleeps between bursts and shares the cores with the
        // server), and the most calls it sent at once: a late pacer sends a burst, which the server sees as one.
        var late = new double[count];
        var burst = 0;
        var start = Stopwatch.GetTimestamp();
        var next = 0;
        while (next < count)
        {
            var due = (int)Math.Min(count, (Stopwatch.GetTimestamp() - start) * rate / Stopwatch.Frequency + 1);
            burst = Math.Max(burst, due - next);
            for (; next < due; next++)
            {
                var index = next;
                var sent = Stopwatch.GetTimestamp();
                late[index] = Math.Max(0, ((double)(sent - start) / Stopwatch.Frequency) - (index / rate));
                send(index).ContinueWith(
                    task =>
                    {
                        latencies[index] = task.IsCompletedSuccessfully ? Stopwatch.GetElapsedTime(sent).TotalSeconds : double.NaN;
                        if (Interlocked.Decrement(ref remaining) == 0)
                        {
                            done.SetResult();
                        }
                    },
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }

            Thread.Sleep(1);
        }

        done.Task.GetAwaiter().GetResult();
        if (latencies.Count(double.IsNaN) is var failed and > 0)
        {
            throw new InvalidOperationException($"{failed} of {count} paced calls failed.");
        }

        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Array.Sort(latencies);
        Array.Sort(late);
        return new PacedResult(
            latencies[count / 2],
            latencies[(int)(count * 0.99)],
            latencies[Math.Min(count - 1, (int)(count * 0.999))],
            count / elapsed,
            GC.CollectionCount(0) - gen0,
            GC.CollectionCount(1) - gen1,
            GC.CollectionCount(2) - gen2,
            (GC.GetTotalPauseDuration() - paused).TotalSeconds,
            threads,
            ThreadPool.ThreadCount,
            late[(int)(count * 0.99)],
            burst);
    }
}

/// <summary>What an open-loop run measured: latency percentiles (seconds), the calls answered per second, the collections, pause time and thread-pool threads (before, after) over the run, and how the pacer kept its schedule.</summary>
internal sealed record PacedResult(
    double P50,
    double P99,
    double P999,
    double Achieved,
    int Gen0,
    int Gen1,
    int Gen2,
    double GcPauseSeconds,
    int ThreadsBefore,
    int ThreadsAfter,
    double LateP99,
    int LargestBurst)
{
    /// <summary>How the pacer kept its schedule, as a table cell: the p99 of how late a call left, and the most calls sent at once.</summary>
    public string Pacing => $"{LateP99 * 1e3:F2} ms, {LargestBurst}";

    /// <summary>The collections and pauses as a table cell, e.g. "12 / 3 / 0, 41 ms".</summary>
    public string Collections => $"{Gen0} / {Gen1} / {Gen2}, {GcPauseSeconds * 1e3:F0} ms";
}
