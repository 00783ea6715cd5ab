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
}
