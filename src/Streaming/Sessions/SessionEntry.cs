using Debug = System.Diagnostics.Debug;
using Akka.Event;
using Streaming.Persistence;
using Streaming.Pipeline;
using static Streaming.Sessions.SessionEffect;

namespace Streaming.Sessions;

/// <summary>
/// One session on this engine: the shell around its <see cref="SessionMachine"/>. It feeds the machine every event
/// (a caller's operation on the caller's thread, an element back from the pipeline's reply lane, a store call's result,
/// the registry's sweeps and requests), one at a time under its lock, and performs the effects the machine returns:
/// it writes elements into the pipeline (under the lock, so a session's elements keep their order), answers callers,
/// calls the store (after the lock; the result comes back as the next event), counts and leaves the directory.
/// It decides nothing itself. A resident session costs no actor and a token no actor hop.
/// </summary>
internal sealed class SessionEntry : IElementOwner
{
    private readonly Lock _gate = new();
    private readonly SessionDirectory _directory;
    private readonly SessionContext _context;
    // Elements in the pipeline in the order written (the pipeline keeps a session's order), with their callers.
    private InFlightQueue _inFlight;
    private Queue<SessionOperation>? _waiting;
    private CloseOperation? _closing;
    private List<TaskCompletionSource<bool>>? _evictions;
    // The outputs of the most recent tokens, and resent tokens waiting for their original's output (both as the machine says).
    private OutputWindow? _outputs;
    private List<Duplicate>? _duplicates;
    private SessionState _state;
    // The effects of the machine's start (the load), performed by Activate once the entry is in the directory.
    private EffectList _starting;
    private bool _pipelineClosed;

    public SessionEntry(string id, SessionDirectory directory, Decision start)
    {
        Id = id;
        CheckpointSlice = SessionRegistry.SliceOf(id);
        _directory = directory;
        _context = directory.Context;
        _state = start.State;
        _starting = start.Effects;
    }

    public string Id { get; }

    /// <summary>The slice of the checkpoint period at which the registry checkpoints this session (from its id, once: the registry asks at every tick).</summary>
    public int CheckpointSlice { get; }

    /// <summary>Performs the start's effects (reads the store); called once, by whoever added the entry.</summary>
    public void Activate()
    {
        var after = default(AfterLock);
        lock (_gate)
        {
            Perform(_starting, null, null, ref after);
            _starting = default;
        }

        after.Run(this);
    }

    /// <summary>Hands <paramref name="operation"/> to the session, in order; false when the entry has left (look the session up again).</summary>
    public bool TrySubmit(SessionOperation operation) => Handle(operation.Command, operation, null);

    /// <summary>The pipeline's reply lane: <paramref name="element"/> has left the last stage.</summary>
    public void Completed(Element element)
    {
        _context.Counters.LeftPipeline();
        var after = default(AfterLock);
        lock (_gate)
        {
            var done = _inFlight.Dequeue();
            Debug.Assert(ReferenceEquals(done.Element, element), "the pipeline keeps each session's elements in order");
            Step(Returned(done, element), done.Operation, element, ref after);
            StartWaiting(ref after);
        }

        after.Run(this);
    }

    /// <summary>The registry's sweep: passivate or expire the session if it has been idle long enough.</summary>
    public void Sweep()
    {
        lock (_gate)
        {
            _inFlight.TrimIfEmpty();
        }

        Handle(SessionEvent.Swept.Instance, null, null);
    }

    /// <summary>Checkpoint time: save the session if it changed.</summary>
    public void Checkpoint() => Handle(SessionEvent.CheckpointDue.Instance, null, null);

    /// <summary>The engine is shutting down: finish what was accepted, save the session if open, leave.</summary>
    public void Shutdown() => Handle(SessionEvent.ShutdownRequested.Instance, null, null);

    /// <summary>The session moved elsewhere without its latest state: once idle it leaves without saving.</summary>
    public void Drop() => Handle(SessionEvent.DropRequested.Instance, null, null);

    /// <summary>The pipeline is gone: fail everything in flight or waiting with EngineStopped, and leave.</summary>
    public void PipelineFailed(string why) => Handle(new SessionEvent.PipelineFailed(why), null, null);

    /// <summary>Once everything accepted has finished, saves the session into the store and frees its slots; true when it left.</summary>
    public Task<bool> Evict()
    {
        var eviction = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            (_evictions ??= []).Add(eviction);
        }

        Handle(SessionEvent.EvictRequested.Instance, null, null);
        return eviction.Task;
    }

    // What an element's return is to the machine; a generation first works out its next input from the element's output.
    private SessionEvent Returned(InFlight done, Element element)
    {
        if (done.Operation is GenerateOperation generation)
        {
            return generation.Prepare(element, _context) ? SessionEvent.GenerationStepDone.More : SessionEvent.GenerationStepDone.Finished;
        }

        return done.Role switch
        {
            ElementRole.Operation => SessionEvent.ElementDone.Of(done.Operation!.Command, element.Position),
            ElementRole.Close => SessionEvent.ElementDone.Close,
            ElementRole.StoreSnapshot => SessionEvent.ElementDone.StoreSnapshot,
            _ => SessionEvent.ElementDone.Internal,
        };
    }

    private bool Handle(SessionEvent happened, SessionOperation? operation, Element? element)
    {
        var after = default(AfterLock);
        bool retry;
        lock (_gate)
        {
            retry = Step(happened, operation, element, ref after);
            StartWaiting(ref after);
        }

        after.Run(this);
        return !retry;
    }

    // Under the lock. True when the machine said Retry (the entry has left).
    private bool Step(SessionEvent happened, SessionOperation? operation, Element? element, ref AfterLock after)
    {
        var decision = SessionMachine.Decide(_context.Rules, Id, _state, happened, _context.Clock.Now);
        _state = decision.State;
        var retry = Perform(decision.Effects, operation, element, ref after);
        if (_pipelineClosed && _state.Phase != SessionPhase.Gone)
        {
            Step(new SessionEvent.PipelineFailed("its pipeline no longer accepts elements"), null, null, ref after);
        }

        return retry;
    }

    // Under the lock: operations that waited start as soon as the phase and the in-flight limit allow.
    private void StartWaiting(ref AfterLock after)
    {
        while (_state.Waiting > 0 && SessionMachine.Accepts(_context.Rules, _state))
        {
            var next = _waiting!.Dequeue();
            Step(new SessionEvent.Dequeued(next.Command), next, null, ref after);
        }

        // Most sessions wait only behind their load: an idle session keeps no queue.
        if (_waiting is { Count: 0 })
        {
            _waiting = null;
        }
    }

    private bool Perform(EffectList effects, SessionOperation? operation, Element? element, ref AfterLock after)
    {
        var retry = false;
        for (var i = 0; i < effects.Count; i++)
        {
            switch (effects[i])
            {
                case ApplyEffect:
                    Write(operation!.ToElement(_context.LayerCount, this, _state.Position), operation);
                    break;
                case ReplyEffect:
                    operation!.Reply(element!, _context);
                    break;
                case ContinueGenerationEffect:
                    Write(((GenerateOperation)operation!).Next(_state.Position), operation);
                    break;
                case InterruptGeneration interrupt:
                    operation!.Fail(interrupt.Error);
                    break;
                case QueueEffect:
                    (_waiting ??= new Queue<SessionOperation>()).Enqueue(operation!);
                    break;
                case RetryEffect:
                    retry = true;
                    break;
                case Refuse refuse:
                    operation!.Fail(refuse.Error);
                    break;
                case RefuseDuplicate duplicate:
                    AnswerDuplicate(new Duplicate(operation!, duplicate.Error, duplicate.At));
                    break;
                case AwaitOriginal waiting:
                    (_duplicates ??= []).Add(new Duplicate(operation!, waiting.Error, waiting.At));
                    break;
                case KeepOutputs or ForgetOutputs or ResumeOutputs:
                    PerformOutputs(effects[i], element);
                    break;
                default:
                    PerformLifecycle(effects[i], element, ref after);
                    break;
            }
        }

        return retry;
    }

    private void PerformOutputs(SessionEffect effect, Element? element)
    {
        switch (effect)
        {
            case KeepOutputs keep:
                var window = _outputs ??= new OutputWindow(_context.OutputWidth, _context.Rules.KeptOutputs);
                var steps = Math.Max(1, element!.Steps);
                window.Append(element.Position - steps, element.Data);
                window.DropBefore(keep.From);
                Debug.Assert(window.First == keep.From && window.End == element.Position, "the shell keeps the outputs the machine counts");
                AnswerDuplicates(before: window.End);
                break;
            case ForgetOutputs:
                _outputs?.Clear();
                AnswerDuplicates(before: long.MaxValue);
                break;
            case ResumeOutputs resume:
                (_outputs ??= new OutputWindow(_context.OutputWidth, _context.Rules.KeptOutputs)).Load(resume.Outputs, resume.Keep);
                break;
        }
    }

    // Resent tokens whose original has come back: each gets its refusal with the original's output, if still kept.
    private void AnswerDuplicates(long before)
    {
        if (_duplicates is null)
        {
            return;
        }

        foreach (var duplicate in _duplicates.Where(d => d.At < before).ToArray())
        {
            _duplicates.Remove(duplicate);
            AnswerDuplicate(duplicate);
        }

        if (_duplicates.Count == 0)
        {
            _duplicates = null;
        }
    }

    private void AnswerDuplicate(Duplicate duplicate)
    {
        var output = _outputs?.At(duplicate.At);
        duplicate.Operation.Fail(output is null ? duplicate.Error : duplicate.Error.WithOutput(new TokenOutput(Id, duplicate.At + 1, output)));
    }

    private void PerformLifecycle(SessionEffect effect, Element? element, ref AfterLock after)
    {
        switch (effect)
        {
            case SendSnapshotEffect:
                Write(new Element(ElementKind.Snapshot, Id, _context.LayerCount, this) { Position = _state.Position }, null, ElementRole.StoreSnapshot);
                break;
            case SendCloseEffect:
                Write(new Element(ElementKind.Close, Id, _context.LayerCount, this), null, ElementRole.Internal);
                break;
            case SendRestore restore:
                Write(new Element(ElementKind.Restore, Id, _context.LayerCount, this) { States = restore.Snapshot.Layers, Position = restore.Snapshot.Position }, null, ElementRole.Internal);
                break;
            case LoadEffect or DeleteEffect:
                after.Store = effect;
                break;
            case SaveSnapshot save:
                after.Store = effect;
                after.Saving = new StoredSession(new SessionSnapshot(_context.Model, element!.Position, element.Collected!), SessionClock.ToTime(save.LastUsed))
                {
                    Outputs = _outputs?.ToRecent(),
                };
                break;
            case SaveTombstone tombstone:
                after.Store = effect;
                after.Saving = StoredSession.Expired(SessionClock.ToTime(tombstone.LastUsed));
                break;
            case AnswerClose answer:
                after.Close = (_closing!, answer.Error);
                _closing = null;
                break;
            case EvictionDone done:
                after.Evictions = _evictions;
                after.Evicted = done.Evicted;
                _evictions = null;
                break;
            case EvictionFailed failed:
                after.Evictions = _evictions;
                after.EvictionError = failed.Error;
                _evictions = null;
                break;
            default:
                PerformBookkeeping(effect, ref after);
                break;
        }
    }

    private void PerformBookkeeping(SessionEffect effect, ref AfterLock after)
    {
        switch (effect)
        {
            case Count count:
                _context.Counters.Count(count.Counter);
                break;
            case MarkPassivated passivated:
                _directory.MarkPassivated(Id, passivated.LastUsed);
                break;
            case Warn warn:
                _context.Log.Warning("Session {0}: {1}", Id, warn.Message);
                break;
            case CheckpointFailed failed:
                _context.CheckpointFailures.Failed(Id, failed.Why);
                break;
            case RetrySaveAfter retry:
                _context.ShutdownSaves.Retrying(_context.Log, Id, retry.Why, retry.Attempt);
                after.RetrySaveAfterMs = retry.DelayMs;
                break;
            case ShutdownSaveLost lost:
                _context.ShutdownSaves.Lost(Id, lost.Why, lost.Attempts);
                break;
            case Leave leave:
                LeaveDirectory(leave.Refusal ?? SessionErrors.Stopped(Id, "the session left without applying it"));
                break;
            case FailAll fail:
                foreach (var inFlight in _inFlight.ToArray())
                {
                    inFlight.Operation?.Fail(fail.Error);
                }

                _closing?.Fail(fail.Error);
                _closing = null;
                FailDuplicates(fail.Error);
                after.Evictions = _evictions;
                after.EvictionError = fail.Error;
                _evictions = null;
                LeaveDirectory(fail.Error);
                break;
            default:
                throw new InvalidOperationException($"session '{Id}': no shell for the effect {effect}.");
        }
    }

    private void FailDuplicates(EngineException error)
    {
        foreach (var duplicate in _duplicates ?? [])
        {
            duplicate.Operation.Fail(error);
        }

        _duplicates = null;
    }

    private void LeaveDirectory(EngineException refusal)
    {
        _directory.Remove(this);
        FailDuplicates(refusal);
        while (_waiting is { Count: > 0 })
        {
            _waiting.Dequeue().Fail(refusal);
        }
    }

    // Under the lock, so the channel receives a session's elements in the order they were decided.
    private void Write(Element element, SessionOperation? operation, ElementRole role = ElementRole.Operation)
    {
        if (operation is CloseOperation close)
        {
            _closing = close;
            role = ElementRole.Close;
        }

        _context.Counters.EnteredPipeline();
        _context.Trace?.Enter(element);
        if (_context.Pipeline.TryWrite(element))
        {
            _inFlight.Enqueue(new InFlight(element, role == ElementRole.Close ? null : operation, role));
            return;
        }

        // The channel completes only once every session has left; should it refuse anyway, nothing was applied.
        _context.Counters.LeftPipeline();
        _pipelineClosed = true;
        if (role == ElementRole.Close)
        {
            _closing = null;
        }

        operation?.Fail(SessionErrors.Stopped(Id, "its pipeline no longer accepts elements"));
    }

    private void StoreCallEnded(SessionEvent result) => Handle(result, null, null);

    // The back-off of a save refused at shutdown: the session tries again when it elapses.
    private void RetrySaveLater(long delayMs) =>
        Task.Delay(TimeSpan.FromMilliseconds(delayMs)).ContinueWith(
            _ => Handle(SessionEvent.SaveRetryDue.Instance, null, null), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

    private readonly record struct InFlight(Element Element, SessionOperation? Operation, ElementRole Role);

    /// <summary>
    /// A queue that holds its first item inline: most sessions have one element in flight at a time, and then keep no
    /// queue at all (an idle session's bytes count at scale). A session with several in flight gets a queue for the rest,
    /// which the sweep lets go once the session is idle.
    /// </summary>
    private struct InFlightQueue
    {
        private InFlight _first;
        private Queue<InFlight>? _rest;

        public int Count { get; private set; }

        public void Enqueue(InFlight item)
        {
            if (Count == 0)
            {
                _first = item;
            }
            else
            {
                (_rest ??= new Queue<InFlight>()).Enqueue(item);
            }

            Count++;
        }

        public InFlight Dequeue()
        {
            if (Count == 0)
            {
                throw new InvalidOperationException("no element of the session is in flight.");
            }

            var head = _first;
            Count--;
            _first = Count > 0 ? _rest!.Dequeue() : default;
            return head;
        }

        public void TrimIfEmpty()
        {
            if (Count == 0)
            {
                _rest = null;
            }
        }

        public readonly InFlight[] ToArray() => Count == 0 ? [] : [_first, .. (IEnumerable<InFlight>?)_rest ?? []];
    }

    private sealed record Duplicate(SessionOperation Operation, EngineException Error, long At);

    /// <summary>What a step leaves to do once the lock is released: the store call it started, and completions.</summary>
    private struct AfterLock
    {
        public SessionEffect? Store;
        public StoredSession? Saving;
        public (CloseOperation Operation, EngineException? Error)? Close;
        public List<TaskCompletionSource<bool>>? Evictions;
        public bool Evicted;
        public EngineException? EvictionError;
        public long? RetrySaveAfterMs;

        public readonly void Run(SessionEntry entry)
        {
            if (Close is { } close)
            {
                var (operation, error) = close;
                if (error is null)
                {
                    operation.Complete(true);
                }
                else
                {
                    operation.Fail(error);
                }
            }

            // Not "Evictions ?? []": for a List that allocates an empty one on every step.
            if (Evictions is { } evictions)
            {
                foreach (var eviction in evictions)
                {
                    if (EvictionError is { } failed)
                    {
                        eviction.TrySetException(failed);
                    }
                    else
                    {
                        eviction.TrySetResult(Evicted);
                    }
                }
            }

            if (Store is not null)
            {
                StoreCalls.Start(entry, Store, Saving);
            }

            if (RetrySaveAfterMs is { } delay)
            {
                entry.RetrySaveLater(delay);
            }
        }
    }

    /// <summary>Starts a store call; its result comes back to the entry as the next event, on the thread pool.</summary>
    private static class StoreCalls
    {
        public static void Start(SessionEntry entry, SessionEffect call, StoredSession? saving)
        {
            var store = entry._context.Store;
            switch (call)
            {
                case LoadEffect:
                    Run(entry, () => store.LoadAsync(entry.Id), t => new SessionEvent.Loaded(((Task<StoredSession?>)t).Result), why => new SessionEvent.LoadFailed(why));
                    break;
                case DeleteEffect:
                    Run(entry, () => store.DeleteAsync(entry.Id), _ => SessionEvent.Deleted.Instance, why => new SessionEvent.DeleteFailed(why));
                    break;
                default:
                    Run(entry, () => store.SaveAsync(entry.Id, saving!), _ => SessionEvent.Saved.Instance, why => new SessionEvent.SaveFailed(why));
                    break;
            }
        }

        private static void Run(SessionEntry entry, Func<Task> call, Func<Task, SessionEvent> succeeded, Func<string, SessionEvent> failed)
        {
            Task task;
            try
            {
                task = call();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                task = Task.FromException(e);
            }

            // Never inline: the result is the entry's next event, taken under its lock on a thread of its own.
            task.ContinueWith(
                t => entry.StoreCallEnded(t.IsCompletedSuccessfully ? succeeded(t) : failed(t.Exception?.GetBaseException().Message ?? "the call was cancelled")),
                CancellationToken.None,
                TaskContinuationOptions.None,
                TaskScheduler.Default);
        }
    }
}
