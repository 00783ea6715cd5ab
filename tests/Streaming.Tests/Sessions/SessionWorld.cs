using Streaming.Persistence;
using Streaming.Sessions;
using static Streaming.Sessions.SessionEffect;

namespace Streaming.Tests.Sessions;

/// <summary>
/// <see cref="SessionMachine"/> in a simulated world, checked step by step against <see cref="SessionModel"/>. The
/// world plays every part around the machine: callers, a shell that performs effects as SessionEntry does, a
/// pipeline that hands each session's elements back in order when the script says, a store whose calls end when the
/// script says (succeeding, failing, or failing after writing), a clock, the registry's sweeps and checkpoints,
/// evictions, shutdowns, crashes and pipeline failures, each followed by a new engine on the same store.
/// </summary>
internal sealed partial class SessionWorld
{
    public static readonly SessionRules Rules = new(MaxInFlight: 2, PassivateAfterMs: 50, ExpireAfterMs: 250, KeptOutputs: 2);

    private readonly Dictionary<string, StoredSession> _store = new(StringComparer.Ordinal);
    private readonly SessionModel _model = new();
    // Each session's elements in the pipeline, in order, whichever entry (old or new) sent them.
    private readonly Dictionary<string, Queue<(Entry Entry, InFlight Element)>> _pipeline = new(StringComparer.Ordinal);
    // Each session's store call in flight: at most one, ever (the machine's promise).
    private readonly Dictionary<string, (Entry Entry, SessionEffect Call, StoredSession? Saving)> _storeCalls = new(StringComparer.Ordinal);
    private readonly List<Operation> _operations = [];
    private readonly List<string> _trace = [];
    private readonly HashSet<string> _reached = new(StringComparer.Ordinal);
    private Engine _engine = new();
    private long _now = 1_000_000;

    /// <summary>
    /// Runs <paramref name="script"/>, then lets everything finish; throws at the first broken rule, with the trace.
    /// Returns the milestones the run reached (phases entered, races met), so a test can tell the scripts reach them.
    /// </summary>
    public static IReadOnlySet<string> Run(IEnumerable<Step> script)
    {
        var world = new SessionWorld();
        try
        {
            foreach (var step in script)
            {
                world._trace.Add(step.ToString()!);
                world.Take(step);
                world._trace.Add("      model: " + string.Join(", ", world._model.Ids.Order().Select(id => $"{id} {(world._model[id].Open ? $"open at {world._model[id].Position}" : world._model[id].Expired ? "expired" : "closed")}")));
            }

            world._trace.Add("finish everything");
            world.Quiesce();
            world.CheckEveryOperationAnsweredOnce();
            return world._reached;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException($"{e.Message}\ntrace:\n  {string.Join("\n  ", world._trace.TakeLast(150))}", e);
        }
    }

    private void Take(Step step)
    {
        switch (step)
        {
            case Step.Submit submit:
                Submit($"s{submit.Session}", Command(submit));
                break;
            case Step.Complete complete:
                CompleteElement($"s{complete.Session}");
                break;
            case Step.StoreEnds ends:
                EndStoreCall($"s{ends.Session}", ends.Outcome);
                break;
            case Step.Rest rest:
                Quiesce($"s{rest.Session}");
                break;
            case Step.UsedElsewhere used when _store.TryGetValue($"s{used.Session}", out var stored) && !stored.IsExpired:
                _store[$"s{used.Session}"] = stored with { LastUsed = SessionClock.ToTime(_now) };
                break;
            case Step.Wait wait:
                _now += wait.Milliseconds;
                break;
            case Step.Sweep:
                Sweep();
                break;
            case Step.Checkpoint when !_engine.Refusing:
                ForEachEntry(entry => Handle(entry, SessionEvent.CheckpointDue.Instance));
                break;
            case Step.Evict evict when !_engine.Refusing && _engine.Entries.TryGetValue($"s{evict.Session}", out var entry):
                entry.Evictions++;
                Handle(entry, SessionEvent.EvictRequested.Instance);
                break;
            case Step.Drop drop when !_engine.Refusing && _engine.Entries.TryGetValue($"s{drop.Session}", out var dropped):
                _engine.Dropped.Add(dropped.Id);
                Handle(dropped, SessionEvent.DropRequested.Instance);
                break;
            case Step.Shutdown:
                Shutdown();
                break;
            case Step.Crash crash:
                Stop(crash.Lands, "crash");
                break;
            case Step.PipelineFails:
                _engine.Refusing = true;
                ForEachEntry(entry => Handle(entry, new SessionEvent.PipelineFailed("a stage failed")));
                Stop(0b111, "pipeline failure");
                break;
        }
    }

    private SessionCommand Command(Step.Submit submit)
    {
        var position = _model[$"s{submit.Session}"].Position;
        return submit.Kind switch
        {
            OperationKind.Open => SessionCommand.Open.Instance,
            OperationKind.Restore => new SessionCommand.Restore(submit.Amount),
            OperationKind.Push => submit.Place switch
            {
                TokenPlace.Anywhere => SessionCommand.Push.Anywhere,
                TokenPlace.Right => new SessionCommand.Push(position),
                TokenPlace.Behind => new SessionCommand.Push(Math.Max(0, position - 1)),
                _ => new SessionCommand.Push(position + 1),
            },
            OperationKind.Snapshot => SessionCommand.Snapshot.Instance,
            OperationKind.Replay => new SessionCommand.Replay(submit.Amount),
            OperationKind.Reset => SessionCommand.Reset.Instance,
            _ => SessionCommand.Close.Instance,
        };
    }

    private void Submit(string id, SessionCommand command)
    {
        var operation = new Operation(_operations.Count, id, command);
        _operations.Add(operation);
        while (true)
        {
            if (_engine.Refusing)
            {
                // The engine refuses it before any session sees it.
                Answer(operation, EngineErrorCode.EngineStopped);
                return;
            }

            if (!_engine.Entries.TryGetValue(id, out var entry))
            {
                entry = Start(id, probe: false);
            }

            if (Handle(entry, command, operation))
            {
                return;
            }
        }
    }

    private Entry Start(string id, bool probe)
    {
        var wasPassivated = _engine.Passivated.Remove(id, out var lastUsed);
        if (!probe)
        {
            _engine.PassivatedHere.Remove(id);
        }

        _reached.Add(probe ? "a probe of a passivated session" : wasPassivated ? "a passivated session resumes" : "a load");
        var entry = new Entry(id, _engine);
        _engine.Entries[id] = entry;
        _model[id].LoadFailed = false;
        var start = SessionMachine.Start(probe ? lastUsed : _now, wasPassivated ? lastUsed : null, probe);
        entry.State = start.State;
        Perform(entry, start.Effects, null, null);
        return entry;
    }

    private void Sweep()
    {
        if (_engine.Refusing)
        {
            return;
        }

        ForEachEntry(entry => Handle(entry, SessionEvent.Swept.Instance));
        foreach (var (id, lastUsed) in _engine.Passivated.ToArray())
        {
            if (Rules.IsExpired(lastUsed, _now) && !_engine.Entries.ContainsKey(id))
            {
                Start(id, probe: true);
            }
        }
    }

    private void ForEachEntry(Action<Entry> action)
    {
        foreach (var entry in _engine.Entries.Values.ToArray())
        {
            action(entry);
        }
    }

    private void CompleteElement(string id)
    {
        if (!_pipeline.TryGetValue(id, out var queue) || queue.Count == 0)
        {
            return;
        }

        var (entry, element) = queue.Dequeue();
        if (entry.Engine.Dead)
        {
            return;
        }

        element.Operation?.ElementCameBack = true;
        Check(ReferenceEquals(entry.InFlight.Peek(), element), $"{id}: elements come back in the order sent");
        entry.InFlight.Dequeue();
        Handle(entry, element is { Role: ElementRole.Operation, Operation: { } operation }
            ? SessionEvent.ElementDone.Of(operation.Command, element.Position)
            : new SessionEvent.ElementDone(element.Role), element.Operation, element);
    }

    private void EndStoreCall(string id, StoreOutcome outcome)
    {
        if (!_storeCalls.Remove(id, out var call))
        {
            return;
        }

        var (entry, effect, saving) = call;
        var writes = outcome != StoreOutcome.Fails;
        _reached.Add($"{effect.GetType().Name} {outcome}{(entry.Engine.Dead ? " in a stopped engine" : "")}");
        SessionEvent result;
        switch (effect)
        {
            case LoadEffect:
                _store.TryGetValue(id, out var stored);
                if (outcome == StoreOutcome.Succeeds)
                {
                    result = new SessionEvent.Loaded(stored);
                    if (_model[id].Unsure && !entry.Engine.Dead)
                    {
                        _model.Follow(id, stored);
                    }
                }
                else
                {
                    // The model keeps what it knows: a failed load changes nothing in the store.
                    result = new SessionEvent.LoadFailed("injected");
                }

                break;
            case DeleteEffect:
                if (writes)
                {
                    _store.Remove(id);
                }

                result = outcome == StoreOutcome.Succeeds ? SessionEvent.Deleted.Instance : new SessionEvent.DeleteFailed("injected");
                break;
            default:
                if (writes)
                {
                    Check(!_model[id].ClosedForGood, $"{id}: a save lands after its close was answered");
                    _store[id] = saving!;
                }

                result = outcome == StoreOutcome.Succeeds ? SessionEvent.Saved.Instance : new SessionEvent.SaveFailed("injected");
                if (outcome != StoreOutcome.Succeeds && entry.State is { Phase: SessionPhase.Leaving, Leaving: LeaveReason.Shutdown })
                {
                    entry.Engine.ShutdownSaveFailed.Add(id);
                }

                break;
        }

        if (!entry.Engine.Dead)
        {
            Handle(entry, result);
            if (outcome == StoreOutcome.Fails && saving is { IsExpired: true } && _model[id].Expired)
            {
                // Expired by what the load found, but the tombstone did not land: the store still holds the snapshot, and
                // if another engine used it since, the next load resumes it. The next load decides.
                _model[id].Unsure = true;
            }
        }
    }

    // Feeds one event to the entry's machine, performs the effects, starts what waited; false when the caller must look again.
    private bool Handle(Entry entry, SessionEvent happened, Operation? operation = null, InFlight? element = null)
    {
        var before = entry.State;
        var decision = SessionMachine.Decide(Rules, entry.Id, entry.State, happened, _now);
        entry.State = decision.State;
        var accepted = Perform(entry, decision.Effects, operation, element);
        Observe(entry, before);
        while (entry.State.Waiting > 0 && SessionMachine.Accepts(Rules, entry.State))
        {
            var next = entry.Waiting.Dequeue();
            before = entry.State;
            var dequeued = SessionMachine.Decide(Rules, entry.Id, entry.State, new SessionEvent.Dequeued(next.Command), _now);
            entry.State = dequeued.State;
            Perform(entry, dequeued.Effects, next, null);
            Observe(entry, before);
        }

        CheckShell(entry);
        CheckPassivatedAreWatched();
        return accepted;
    }

    // Lifecycle moves of the model: they happen when the machine makes them, after their own checks.
    private void Observe(Entry entry, SessionState before)
    {
        var after = entry.State;
        if (before.Phase == SessionPhase.Loading && after.Phase is not (SessionPhase.Loading or SessionPhase.Gone))
        {
            // A probe that resumes or expires the session has taken it; one that leaves must leave it watched.
            entry.Engine.PassivatedHere.Remove(entry.Id);
        }

        if (after.DropRequested && after.Phase == SessionPhase.Gone && before.Phase != SessionPhase.Gone)
        {
            // What it did since its last save is gone by design: the store decides what the session is next.
            _model[entry.Id].Unsure = true;
        }

        if (before.Phase == SessionPhase.Loading && after.Phase == SessionPhase.LoadFailed)
        {
            _model[entry.Id].LoadFailed = true;
        }
        else if (before.Phase == SessionPhase.LoadFailed && after.Phase == SessionPhase.Gone)
        {
            _model[entry.Id].LoadFailed = false;
        }

        if (after.Phase != before.Phase)
        {
            _trace.Add($"    {entry.Id}: {before.Phase} -> {after.Phase} at {after.Position}");
            _reached.Add($"{before.Phase} -> {after.Phase}{(after.Phase == SessionPhase.Leaving ? $" ({after.Leaving})" : "")}");
        }

        if (after.Phase == SessionPhase.Closing && after.StoreBusy && !before.StoreBusy && after.Stored && _storeCalls.TryGetValue(entry.Id, out var call) && call.Call is DeleteEffect && before.Phase == SessionPhase.Closing)
        {
            _reached.Add("a close deletes after a save in flight ended");
        }

        if (before.Phase == SessionPhase.Expiring && after.Phase is not (SessionPhase.Expiring or SessionPhase.Open))
        {
            // Expired (the tombstone saved, or, found on a load, its save failed): it may have left at once.
            _model[entry.Id].Open = false;
            _model[entry.Id].Expired = true;
        }

        if (before.Phase == SessionPhase.Loading && !_model[entry.Id].Unsure)
        {
            // A session that passivated, was evicted or shut down comes back exactly where it was.
            var model = _model[entry.Id];
            Check(after.Phase != SessionPhase.Closed || !model.Open, $"{entry.Id}: a load found nothing for a session the model holds open");
            Check(after.Phase != SessionPhase.Open || (model.Open && after.Position == model.Position),
                $"{entry.Id}: resumed at {after.Position}; the model holds it {(model.Open ? $"at {model.Position}" : "not open")}");
        }
    }
}
