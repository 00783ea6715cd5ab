using System.Collections.Concurrent;
using System.Diagnostics;
using Streaming.Pipeline;

namespace Streaming.Benchmarks;

/// <summary>
/// Where a paced run's token latency went, from the pipeline's trace (<see cref="PipelineTrace"/>): each token's time from
/// the call to its answer split into admission (the call, the session's lock and machine, until its element is in the
/// channel), the channel (until the first stage takes it), queueing (received by a stage until its batch starts, every
/// stage), compute (its batches, every stage), hand-over (a computed batch until the next stage or the sink takes the
/// element: emission one element at a time through the stream) and the reply (the sink, the session's bookkeeping, the
/// caller's task and its continuation on the thread pool). Means over the slowest 1% and over the middle 10% of tokens.
/// </summary>
internal sealed class LatencyBreakdown
{
    private readonly RecurrentEngine _engine;
    private readonly ConcurrentDictionary<(string Session, long Position), long[]> _times = new();
    private long[] _sent = [];
    private long[] _done = [];
    private (string Session, long Position)[] _keys = [];

    public LatencyBreakdown(RecurrentEngine engine) => _engine = engine;

    /// <summary>The parts, in the order of a token's way.</summary>
    public static IReadOnlyList<string> Parts { get; } = ["admission", "channel", "queue", "compute", "hand-over", "reply"];

    /// <summary>Runs <paramref name="push"/> paced at <paramref name="rate"/> for <paramref name="count"/> calls with the trace on.</summary>
    public PacedResult Run(Func<int, Task<TokenOutput>> push, double rate, int count)
    {
        _sent = new long[count];
        _done = new long[count];
        _keys = new (string, long)[count];
        _times.Clear();
        var trace = _engine.Trace;
        trace.Listen(element => _times[(element.SessionId, element.Position)] = element.Times!);
        try
        {
            return Measure.Paced(
                index =>
                {
                    _sent[index] = Stopwatch.GetTimestamp();
                    return push(index).ContinueWith(
                        task =>
                        {
                            _done[index] = Stopwatch.GetTimestamp();
                            _keys[index] = (task.Result.SessionId, task.Result.Position);
                        },
                        CancellationToken.None,
                        TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion,
                        TaskScheduler.Default);
                },
                rate,
                count);
        }
        finally
        {
            trace.Listen(null);
        }
    }

    /// <summary>
    /// Mean milliseconds of each part (<see cref="Parts"/>) over the tokens whose latency ranks from <paramref name="from"/>
    /// to <paramref name="to"/> (fractions), the tokens it averaged, and the mean size of the first stage's batches that
    /// held them and the microseconds a token those batches took (tokens of one batch share its timestamps).
    /// </summary>
    public (double[] Milliseconds, int Tokens, double Batch, double MicrosecondsPerToken) Mean(double from, double to)
    {
        var stages = _engine.Trace.Stages;
        var batches = _times.Values.GroupBy(t => t[PipelineTrace.Started(0)]).ToDictionary(g => g.Key, g => g.Count());
        var order = Enumerable.Range(0, _sent.Length).Where(i => _done[i] != 0 && _times.ContainsKey(_keys[i]))
            .OrderBy(i => _done[i] - _sent[i]).ToArray();
        var chosen = order[(int)(order.Length * from)..Math.Max((int)(order.Length * from) + 1, (int)(order.Length * to))];
        var sums = new double[Parts.Count];
        double batch = 0, perToken = 0;
        foreach (var i in chosen)
        {
            var t = _times[_keys[i]];
            var size = batches[t[PipelineTrace.Started(0)]];
            batch += size;
            perToken += (t[PipelineTrace.Computed(0)] - t[PipelineTrace.Started(0)]) * 1e6 / Stopwatch.Frequency / size;
            sums[0] += t[PipelineTrace.Entered] - _sent[i];
            sums[1] += t[PipelineTrace.Received(0)] - t[PipelineTrace.Entered];
            for (var s = 0; s < stages; s++)
            {
                sums[2] += t[PipelineTrace.Started(s)] - t[PipelineTrace.Received(s)];
                sums[3] += t[PipelineTrace.Computed(s)] - t[PipelineTrace.Started(s)];
                sums[4] += (s + 1 < stages ? t[PipelineTrace.Received(s + 1)] : t[^1]) - t[PipelineTrace.Computed(s)];
            }

            sums[5] += _done[i] - t[^1];
        }

        return (sums.Select(sum => sum * 1e3 / Stopwatch.Frequency / chosen.Length).ToArray(), chosen.Length, batch / chosen.Length, perToken / chosen.Length);
    }
}
