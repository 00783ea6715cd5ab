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

    /// <summary>Median seconds of one call, timing batches of <paramref name="callsPerSample"/> calls to rise above timer resolution.</summary>
    public static double MedianSecondsPerCall(Action action, int callsPerSample, int samples)
    {
        for (var i = 0; i < callsPerSample; i++)
        {
            action();
        }

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
