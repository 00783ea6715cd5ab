using System.Diagnostics;
using System.Threading.Channels;
using Akka.Streams;
using Akka.Streams.Stage;

namespace Streaming.Pipeline;

/// <summary>What a batch stage is made of, whichever way its elements come in.</summary>
/// <param name="CreateProcessor">Creates the processor of one materialization; the stage disposes it when it stops.</param>
/// <param name="Settings">Batch sizes and waits.</param>
/// <param name="Counters">Where batch sizes are counted.</param>
/// <param name="Index">The stage's place in the pipeline, for the timestamps of traced elements.</param>
/// <param name="Lane">For the last stage: where its computed batches go, instead of downstream.</param>
internal sealed record BatchStageParts(Func<IBatchProcessor> CreateProcessor, BatchSettings Settings, StageCounters Counters, int Index, ReplyLane? Lane);

/// <summary>
/// The logic of <see cref="BatchStage"/> (elements pulled from an inlet, one at a time) and of <see cref="ChannelBatchStage"/>
/// (elements read from a channel, all that it holds at once). Both queue elements, start a batch when it is due, compute it
/// on the thread pool, and emit the computed elements or hand them to the reply lane.
/// </summary>
internal sealed class BatchStageLogic : TimerGraphStageLogic, IInHandler, IOutHandler
{
    private const string WaitTimer = "batch-wait";

    private readonly Inlet<Element>? _in;
    private readonly ChannelReader<Element>? _reader;
    private readonly Outlet<Element> _out;
    private readonly BatchStageParts _parts;
    private readonly BatchSettings _settings;
    private readonly HashSet<string> _sessionsSeen = new(StringComparer.Ordinal);
    private List<Element> _queue = [];
    private List<Element> _spare = [];
    private readonly Queue<Element> _ready = new();
    private IBatchProcessor? _processor;
    private Action<Task<List<Element>>>? _onComputed;
    private Action<Task>? _onDelivered;
    private Action<Task<bool>>? _onReadable;
    private Task? _running;
    // Batches handed to the reply lane and not yet delivered.
    private int _delivering;
    private bool _upstreamFinished;
    // Reading a channel: a wait for it to hold an element is pending.
    private bool _waiting;

    /// <param name="shape">The stage's shape.</param>
    /// <param name="inlet">Where elements come from, pulled one at a time; null when they come from <paramref name="reader"/>.</param>
    /// <param name="reader">The channel elements are read from; null when they come from <paramref name="inlet"/>.</param>
    /// <param name="outlet">Where computed elements go when the stage has no reply lane.</param>
    /// <param name="parts">The processor, settings, counters, place and lane.</param>
    public BatchStageLogic(Shape shape, Inlet<Element>? inlet, ChannelReader<Element>? reader, Outlet<Element> outlet, BatchStageParts parts)
        : base(shape)
    {
        Debug.Assert((inlet is null) != (reader is null), "elements come from an inlet or from a channel");
        _in = inlet;
        _reader = reader;
        _out = outlet;
        _parts = parts;
        _settings = parts.Settings;
        if (inlet is not null)
        {
            SetHandler(inlet, this);
        }

        SetHandler(outlet, this);
    }

    private bool Computing => _running is not null;

    public override void PreStart()
    {
        _processor = _parts.CreateProcessor();
        _onComputed = GetAsyncCallback<Task<List<Element>>>(OnComputed);
        _onDelivered = GetAsyncCallback<Task>(OnDelivered);
        if (_in is not null)
        {
            Pull(_in);
        }
        else
        {
            _onReadable = GetAsyncCallback<Task<bool>>(OnReadable);
            Advance(afterBatch: false);
        }
    }

    public override void PostStop()
    {
        // A batch still computing (after a failure or cancellation) owns the processor until it returns.
        if (_running is { } running)
        {
            var processor = _processor;
            running.ContinueWith(_ => processor?.Dispose(), TaskScheduler.Default);
        }
        else
        {
            _processor?.Dispose();
        }
    }

    public void OnPush()
    {
        var element = Grab(_in!);
        _queue.Add(element);
        Received(element, Stopwatch.GetTimestamp());
        StartBatchIfDue(afterBatch: false);
        PullIfRoom();
    }

    public void OnUpstreamFinish()
    {
        FinishUpstream();
        StartBatchIfDue(afterBatch: false);
        CompleteIfDone();
    }

    public void OnUpstreamFailure(Exception e) => FailStage(e);

    public void OnPull()
    {
        if (_ready.Count > 0)
        {
            Push(_out, _ready.Dequeue());
        }

        Advance(afterBatch: false);
    }

    public void OnDownstreamFinish(Exception cause) => CancelStage(cause);

    protected override void OnTimer(object timerKey) => Advance(afterBatch: false);

    // Takes in what a channel holds, starts a batch if one is due, asks for more elements, and completes when all is done.
    private void Advance(bool afterBatch)
    {
        if (!ReadAvailable())
        {
            return;
        }

        StartBatchIfDue(afterBatch);
        if (_in is not null)
        {
            PullIfRoom();
        }
        else
        {
            WaitIfIdle();
        }

        CompleteIfDone();
    }

    private void Received(Element element, long now)
    {
        element.ReceivedAt = now;
        if (element.Times is { } times)
        {
            times[PipelineTrace.Received(_parts.Index)] = now;
        }
    }

    private void FinishUpstream()
    {
        _upstreamFinished = true;
        CancelTimer(WaitTimer);
    }

    // Reading a channel: every element it holds, up to the queue's capacity; notes a completed channel. False when the
    // channel was completed with an error, which fails the stage.
    private bool ReadAvailable()
    {
        if (_reader is null || _upstreamFinished)
        {
            return true;
        }

        var first = _queue.Count;
        while (_queue.Count < _settings.QueueCapacity && _reader.TryRead(out var element))
        {
            _queue.Add(element);
        }

        // Read in one go: one timestamp for them all, taken after the last was read, so that none was received before it
        // was written.
        if (_queue.Count > first)
        {
            var now = Stopwatch.GetTimestamp();
            for (var i = first; i < _queue.Count; i++)
            {
                Received(_queue[i], now);
            }
        }

        // The reader's completion completes once the channel is completed and every element in it was read.
        if (_queue.Count < _settings.QueueCapacity && _reader.Completion.IsCompleted)
        {
            if (_reader.Completion.Exception is { } failure)
            {
                FailStage(Unwrap(failure));
                return false;
            }

            FinishUpstream();
        }

        return true;
    }

    // Reading a channel: waits for it only while no batch computes and the queue has room. While a batch computes, what
    // the channel receives meanwhile is read once the batch is done, in one go.
    private void WaitIfIdle()
    {
        if (_upstreamFinished || _waiting || Computing || _queue.Count >= _settings.QueueCapacity)
        {
            return;
        }

        _waiting = true;
        _reader!.WaitToReadAsync().AsTask().ContinueWith(_onReadable!, TaskScheduler.Default);
    }

    private void OnReadable(Task<bool> readable)
    {
        _waiting = false;
        if (readable.Exception is { } failure)
        {
            // The channel was completed with an error.
            FailStage(Unwrap(failure));
            return;
        }

        if (!readable.Result)
        {
            FinishUpstream();
        }

        Advance(afterBatch: false);
    }

    private void StartBatchIfDue(bool afterBatch)
    {
        // At most one computed batch waits to be emitted (or delivered): a slow downstream stops new batches, then pulls.
        if (Computing || _queue.Count == 0 || _ready.Count >= _settings.MaxBatchSize || _delivering > 1)
        {
            return;
        }

        if (afterBatch && _settings.BatchWait > TimeSpan.Zero && !_upstreamFinished && _queue.Count < _settings.MaxBatchSize)
        {
            ScheduleOnce(WaitTimer, _settings.BatchWait);
            return;
        }

        if (IsTimerActive(WaitTimer) && _queue.Count < _settings.MaxBatchSize && !_upstreamFinished)
        {
            return;
        }

        CancelTimer(WaitTimer);
        var batch = TakeBatch();
        var now = Stopwatch.GetTimestamp();
        var waited = 0L;
        foreach (var element in batch)
        {
            waited += now - element.ReceivedAt;
        }

        _parts.Counters.Record(batch.Count);
        _parts.Counters.Waited(waited);
        var processor = _processor!;
        var counters = _parts.Counters;
        var index = _parts.Index;
        _running = Task.Run(() =>
        {
            var start = Stopwatch.GetTimestamp();
            processor.Process(batch);
            var end = Stopwatch.GetTimestamp();
            counters.Computed(end - start);
            PipelineTrace.Stamp(batch, index, start, end);
            return batch;
        }).ContinueWith(_onComputed!, TaskScheduler.Default);
    }

    // Scans the queue in order: the first element of each session joins the batch; later ones of a session
    // already in it wait, and stay in order, for the next batch.
    private List<Element> TakeBatch()
    {
        var batch = new List<Element>(Math.Min(_queue.Count, _settings.MaxBatchSize));
        _sessionsSeen.Clear();
        _spare.Clear();
        foreach (var element in _queue)
        {
            if (batch.Count < _settings.MaxBatchSize && _sessionsSeen.Add(element.SessionId))
            {
                batch.Add(element);
            }
            else
            {
                _spare.Add(element);
            }
        }

        (_queue, _spare) = (_spare, _queue);
        return batch;
    }

    private void OnComputed(Task<List<Element>> computed)
    {
        _running = null;
        if (computed.Exception is { } failure)
        {
            FailStage(Unwrap(failure));
            return;
        }

        if (_parts.Lane is { } lane)
        {
            _delivering++;
            lane.Deliver(computed.Result).ContinueWith(_onDelivered!, TaskScheduler.Default);
        }
        else
        {
            foreach (var element in computed.Result)
            {
                _ready.Enqueue(element);
            }
        }

        if (IsAvailable(_out) && _ready.Count > 0)
        {
            Push(_out, _ready.Dequeue());
        }

        Advance(afterBatch: true);
    }

    private void OnDelivered(Task delivered)
    {
        _delivering--;
        if (delivered.Exception is { } failure)
        {
            FailStage(Unwrap(failure));
            return;
        }

        Advance(afterBatch: false);
    }

    // A task's failure as its one exception, or the aggregate when there are several.
    private static Exception Unwrap(AggregateException failure) =>
        failure.InnerExceptions.Count == 1 ? failure.InnerExceptions[0] : failure;

    private void PullIfRoom()
    {
        if (!_upstreamFinished && _queue.Count < _settings.QueueCapacity && !HasBeenPulled(_in!) && !IsClosed(_in!))
        {
            Pull(_in!);
        }
    }

    private void CompleteIfDone()
    {
        if (_upstreamFinished && _queue.Count == 0 && !Computing && _ready.Count == 0 && _delivering == 0)
        {
            CompleteStage();
        }
    }
}
