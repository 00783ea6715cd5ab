using System.Diagnostics;
using Streaming.Pipeline;

namespace Streaming.Benchmarks;

/// <summary>
/// Where a paced run's token latency went, from the pipeline's trace (<see cref="PipelineTrace"/>): each token's time from
/// the call to its answer split into admission (the call, the session's lock and machine, until its element is in the
/// channel), the channel (until the first stage takes it: it reads the channel when it may start a batch, so this includes
/// waiting for the batch before to be computed), queueing (received by a stage until its batch starts, every
/// stage), compute (its batches, every stage), hand-over (a computed batch until the next stage takes the element, or
/// after the last stage until the reply lane hands it back, one after another) and the reply (the session's bookkeeping,
/// the caller's task and its continuation on the thread pool). Means over a band of tokens ranked by latency.
/// <para>
/// What the trace adds to the run is one array of timestamps a token, which dies young: the listener copies the timestamps
/// into one buffer reserved before the run (a row per session and position), so that nothing a token allocates is kept
/// until the end (kept, they were promoted by every collection and the traced run's pauses grew several-fold).
/// </para>
/// </summary>
internal sealed class LatencyBreakdown
{
    private readonly RecurrentEngine _engine;
    private readonly string[] _ids;
    private readonly Dictionary<string, int> _sessions;
    private readonly int _width;
    private long[] _sent = [];
    private long[] _done = [];
    private int[] _rows = [];
    private long[] _first = [];
    private long[] _times = [];
    private int _perSession;

    public LatencyBreakdown(RecurrentEngine engine, string[] ids)
    {
        _engine = engine;
        _ids = ids;
        _sessions = ids.Select((id, i) => (id, i)).ToDictionary(p => p.id, p => p.i, StringComparer.Ordinal);
        _width = engine.Trace.Length;
    }

    /// <summary>The parts, in the order of a token's way.</summary>
    public static IReadOnlyList<string> Parts { get; } = ["admission", "channel", "queue", "compute", "hand-over", "reply"];

    /// <summary>Runs <paramref name="push"/> paced at <paramref name="rate"/> for <paramref name="count"/> calls with the trace on; call i must push to session i modulo the sessions.</summary>
    public PacedResult Run(Func<int, Task<TokenOutput>> push, double rate, int count)
    {
        _sent = new long[count];
        _done = new long[count];
        _rows = new int[count];
        // A session's elements reach the sink in its order: the first one the listener sees is its first position in the run.
        _first = Enumerable.Repeat(-1L, _ids.Length).ToArray();
        _perSession = (count / _ids.Length) + 1;
        _times = new long[_ids.Length * _perSession * _width];
        var trace = _engine.Trace;
        trace.Listen(element =>
        {
            var session = _sessions[element.SessionId];
            if (_first[session] < 0)
            {
                _first[session] = element.Position;
            }

            element.Times!.CopyTo(_times, Row(session, element.Position) * _width);
        });
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
                            // The listener saw the element before its caller's task completed.
                            _rows[index] = Row(index % _ids.Length, task.Result.Position);
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
        var answered = Enumerable.Range(0, _sent.Length).Where(i => _done[i] != 0).ToArray();
        var batches = answered.GroupBy(i => At(i, PipelineTrace.Started(0))).ToDictionary(g => g.Key, g => g.Count());
        var order = answered.OrderBy(i => _done[i] - _sent[i]).ToArray();
        var chosen = order[(int)(order.Length * from)..Math.Max((int)(order.Length * from) + 1, (int)(order.Length * to))];
        var sums = new double[Parts.Count];
        double batch = 0, perToken = 0;
        foreach (var i in chosen)
        {
            var size = batches[At(i, PipelineTrace.Started(0))];
            batch += size;
            perToken += (At(i, PipelineTrace.Computed(0)) - At(i, PipelineTrace.Started(0))) * 1e6 / Stopwatch.Frequency / size;
            sums[0] += At(i, PipelineTrace.Entered) - _sent[i];
            sums[1] += At(i, PipelineTrace.Received(0)) - At(i, PipelineTrace.Entered);
            for (var s = 0; s < stages; s++)
            {
                sums[2] += At(i, PipelineTrace.Started(s)) - At(i, PipelineTrace.Received(s));
                sums[3] += At(i, PipelineTrace.Computed(s)) - At(i, PipelineTrace.Started(s));
                sums[4] += (s + 1 < stages ? At(i, PipelineTrace.Received(s + 1)) : At(i, _width - 1)) - At(i, PipelineTrace.Computed(s));
            }

            sums[5] += _done[i] - At(i, _width - 1);
        }

        return (sums.Select(sum => sum * 1e3 / Stopwatch.Frequency / chosen.Length).ToArray(), chosen.Length, batch / chosen.Length, perToken / chosen.Length);
    }

    private int Row(int session, long position) => (session * _perSession) + (int)(position - _first[session]);

    private long At(int call, int index) => _times[(_rows[call] * _width) + index];
}
