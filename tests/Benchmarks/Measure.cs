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
    /// Open loop: call i of <paramref name="count"/> is sent at i / <paramref name="rate"/> seconds whatever the answers
    /// before it did; returns the median and 99th percentile of the seconds from send to answer, and the calls answered
    /// per second.
    /// </summary>
    public static (double P50, double P99, double Achieved) Paced(Func<int, Task> send, double rate, int count)
    {
        var latencies = new double[count];
        var pending = new Task[count];
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            var due = start + (long)(i / rate * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < due)
            {
                Thread.SpinWait(20);
            }

            var index = i;
            var sent = Stopwatch.GetTimestamp();
            pending[i] = send(i).ContinueWith(_ => latencies[index] = Stopwatch.GetElapsedTime(sent).TotalSeconds, TaskScheduler.Default);
        }

        Task.WaitAll(pending);
        var elapsed = Stopwatch.GetElapsedTime(start).TotalSeconds;
        Array.Sort(latencies);
        return (latencies[count / 2], latencies[(int)(count * 0.99)], count / elapsed);
    }
}
