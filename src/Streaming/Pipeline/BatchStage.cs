using System.Diagnostics;
using Akka.Streams;
using Akka.Streams.Stage;

namespace Streaming.Pipeline;

/// <summary>
/// Forms micro-batches of elements and computes each batch off the stream's thread with a processor (a layer
/// with its state slab, or the head). When idle it starts on the first element at once; while a batch computes
/// it keeps pulling into a bounded queue, and the next batch takes every queued element it may, up to the
/// maximum batch size. A session appears at most once per batch: the queue is scanned in order, and an
/// element whose session is already in the batch (or blocked behind an earlier element of its own) waits for
/// the next batch, so each session's elements leave in the order they came.
/// <para>Emits when a computed element is waiting and downstream pulls; a stage given a <see cref="ReplyLane"/> (the last
/// one) hands each computed batch to it instead and emits nothing.</para>
/// <para>Backpressures when the queue is full, or a computed batch is still waiting to be emitted and the queue is full.</para>
/// <para>Completes when upstream completes and every queued element has been computed and emitted (or delivered).</para>
/// <para>Cancels when downstream cancels. A processor failure fails the stage (elements in the stage are lost).</para>
/// </summary>
internal sealed class BatchStage : GraphStage<FlowShape<Element, Element>>
{
    private readonly Func<IBatchProcessor> _createProcessor;
    private readonly BatchSettings _settings;
    private readonly StageCounters _counters;
    private readonly int _index;
    private readonly ReplyLane? _lane;

    /// <param name="createProcessor">Creates the processor of one materialization; the stage disposes it when it stops.</param>
    /// <param name="settings">Batch sizes and waits.</param>
    /// <param name="counters">Where batch sizes are counted.</param>
    /// <param name="index">The stage's place in the pipeline, for the timestamps of traced elements (<see cref="PipelineTrace"/>).</param>
    /// <param name="lane">
    /// For the last stage: where its computed batches go, instead of downstream (which then receives nothing); the stage
    /// starts its next batch while the lane delivers the previous one, and never runs more than one batch ahead of it.
    /// </param>
    public BatchStage(Func<IBatchProcessor> createProcessor, BatchSettings settings, StageCounters counters, int index = 0, ReplyLane? lane = null)
    {
        _createProcessor = createProcessor;
        _settings = settings;
        _counters = counters;
        _index = index;
        _lane = lane;
        Shape = new FlowShape<Element, Element>(In, Out);
    }

    public Inlet<Element> In { get; } = new("BatchStage.in");

    public Outlet<Element> Out { get; } = new("BatchStage.out");

    public override FlowShape<Element, Element> Shape { get; }

    protected override Attributes InitialAttributes => Attributes.CreateName("BatchStage");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : TimerGraphStageLogic, IInHandler, IOutHandler
    {
        private const string WaitTimer = "batch-wait";

        private readonly BatchStage _stage;
        private readonly BatchSettings _settings;
        private readonly HashSet<string> _sessionsSeen = new(StringComparer.Ordinal);
        private List<Element> _queue = [];
        private List<Element> _spare = [];
        private readonly Queue<Element> _ready = new();
        private IBatchProcessor? _processor;
        private Action<Task<List<Element>>>? _onComputed;
        private Action<Task>? _onDelivered;
        private Task? _running;
        // Batches handed to the reply lane and not yet delivered.
        private int _delivering;
        private bool _upstreamFinished;

        public Logic(BatchStage stage) : base(stage.Shape)
        {
            _stage = stage;
            _settings = stage._settings;
            SetHandler(stage.In, this);
            SetHandler(stage.Out, this);
        }

        private bool Computing => _running is not null;

        public override void PreStart()
        {
            _processor = _stage._createProcessor();
            _onComputed = GetAsyncCallback<Task<List<Element>>>(OnComputed);
            _onDelivered = GetAsyncCallback<Task>(OnDelivered);
            Pull(_stage.In);
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
            var element = Grab(_stage.In);
            element.ReceivedAt = Stopwatch.GetTimestamp();
            if (element.Times is { } times)
            {
                times[PipelineTrace.Received(_stage._index)] = element.ReceivedAt;
            }

            _queue.Add(element);
            StartBatchIfDue(afterBatch: false);
            PullIfRoom();
        }

        public void OnUpstreamFinish()
        {
            _upstreamFinished = true;
            CancelTimer(WaitTimer);
            StartBatchIfDue(afterBatch: false);
            CompleteIfDone();
        }

        public void OnUpstreamFailure(Exception e) => FailStage(e);

        public void OnPull()
        {
            if (_ready.Count > 0)
            {
                Push(_stage.Out, _ready.Dequeue());
            }

            StartBatchIfDue(afterBatch: false);
            PullIfRoom();
            CompleteIfDone();
        }

        public void OnDownstreamFinish(Exception cause) => CancelStage(cause);

        protected override void OnTimer(object timerKey) => StartBatchIfDue(afterBatch: false);

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

            _stage._counters.Record(batch.Count);
            _stage._counters.Waited(waited);
            var processor = _processor!;
            var counters = _stage._counters;
            var index = _stage._index;
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
                FailStage(failure.InnerExceptions.Count == 1 ? failure.InnerExceptions[0] : failure);
                return;
            }

            if (_stage._lane is { } lane)
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

            if (IsAvailable(_stage.Out) && _ready.Count > 0)
            {
                Push(_stage.Out, _ready.Dequeue());
            }

            StartBatchIfDue(afterBatch: true);
            PullIfRoom();
            CompleteIfDone();
        }

        private void OnDelivered(Task delivered)
        {
            _delivering--;
            if (delivered.Exception is { } failure)
            {
                FailStage(failure.InnerExceptions.Count == 1 ? failure.InnerExceptions[0] : failure);
                return;
            }

            StartBatchIfDue(afterBatch: false);
            PullIfRoom();
            CompleteIfDone();
        }

        private void PullIfRoom()
        {
            if (!_upstreamFinished && _queue.Count < _settings.QueueCapacity && !HasBeenPulled(_stage.In) && !IsClosed(_stage.In))
            {
                Pull(_stage.In);
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
}
