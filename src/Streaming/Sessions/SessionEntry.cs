using Debug = System.Diagnostics.Debug;
using Akka.Actor;
using Streaming.Persistence;
using Streaming.Pipeline;

namespace Streaming.Sessions;

/// <summary>
/// One session on this engine, as its operations see it: open or not, its position, the order of its operations,
/// how many of them are in the pipeline (at most <see cref="EngineOptions.MaxInFlightPerSession"/>; the rest wait
/// here) and the replies. Callers apply operations to it on their own threads under its lock, and the pipeline's
/// sink completes them, so a resident session costs no actor and a token no actor hop.
/// <para>
/// Its <see cref="SessionActor"/> owns its life cycle: while the actor loads the session from the store,
/// passivates it or saves it at shutdown, the entry is <em>held</em> (new operations wait in order) and only
/// the actor sends elements. A gone entry has left the directory; an operation that finds it gone looks again.
/// </para>
/// </summary>
internal sealed class SessionEntry : IElementOwner
{
    private readonly SessionDirectory _directory;
    // Elements in the pipeline, in the order sent (the pipeline keeps a session's order).
    private readonly Queue<(Element Element, SessionOperation? Operation, IActorRef? Actor)> _inFlight = new();
    private Queue<SessionOperation>? _waiting;
    private IActorRef? _idleWatcher;
    private string? _closedBecause;
    private long _position;
    private long _lastUsed;
    private bool _open;
    private bool _held;
    private bool _attached;
    private bool _gone;
    // The store may hold something of the session (loaded from it, or saved since): a close deletes it.
    private bool _persisted;
    // Its state changed since the last snapshot taken for the store: a checkpoint is due.
    private bool _changed;
    // It was loaded from the store (a token beyond its position is then most likely a resend after a crash).
    private bool _resumed;
    // The store holds its tombstone: operations other than open and restore are refused with SessionExpired.
    private bool _expired;

    /// <summary>A new entry is held and attached: its actor loads the session first.</summary>
    public SessionEntry(string id, SessionDirectory directory)
    {
        Id = id;
        _directory = directory;
        _held = true;
        _attached = true;
        _lastUsed = Environment.TickCount64;
    }

    /// <summary>What the lifecycle actor finds when it asks to hold an idle entry.</summary>
    public enum HoldResult
    {
        Held,
        Busy,
        Gone,
    }

    public string Id { get; }

    private SessionContext Context => _directory.Context;

    private bool Idle => _inFlight.Count == 0 && _waiting is not { Count: > 0 };

    /// <summary>
    /// Applies <paramref name="operation"/> in order, or queues it (held, or at the in-flight limit). False when
    /// the entry is gone: the caller looks the session up again.
    /// </summary>
    public bool TrySubmit(SessionOperation operation)
    {
        lock (this)
        {
            if (_gone)
            {
                return false;
            }

            _lastUsed = Environment.TickCount64;
            if (_held || _waiting is { Count: > 0 } || _inFlight.Count >= Context.Options.MaxInFlightPerSession)
            {
                (_waiting ??= new Queue<SessionOperation>()).Enqueue(operation);
            }
            else
            {
                Start(operation);
                RemoveIfClosedAndIdle();
            }

            return true;
        }
    }

    /// <summary>The pipeline's sink: <paramref name="element"/> has left the last stage.</summary>
    public void Completed(Element element)
    {
        IActorRef? watcher;
        (Element Element, SessionOperation? Operation, IActorRef? Actor) first;
        lock (this)
        {
            Context.Counters.LeftPipeline();
            first = _inFlight.Dequeue();
            Debug.Assert(ReferenceEquals(first.Element, element), "the pipeline keeps each session's elements in order");
            _lastUsed = Environment.TickCount64;
            Drain();
            watcher = TakeIdleWatcher();
            RemoveIfClosedAndIdle();
        }

        // Outside the lock: one sink thread completes a session's elements, so replies keep their order anyway.
        if (first.Operation is { } operation)
        {
            operation.Reply(element, Context);
        }
        else
        {
            first.Actor?.Tell(element, ActorRefs.NoSender);
        }

        watcher?.Tell(EntryIdle.Instance, ActorRefs.NoSender);
    }

    // ---- Lifecycle actor and registry ----

    public long Position
    {
        get
        {
            lock (this)
            {
                return _position;
            }
        }
    }

    public bool IsOpen
    {
        get
        {
            lock (this)
            {
                return _open;
            }
        }
    }

    /// <summary>When the session last took an operation, as wall-clock time.</summary>
    public DateTimeOffset LastUsedUtc
    {
        get
        {
            lock (this)
            {
                return DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(Math.Max(0, Environment.TickCount64 - _lastUsed));
            }
        }
    }

    /// <summary>Attaches a checkpoint actor to an open entry that changed since its last save; false otherwise.</summary>
    public bool TryAttachForCheckpoint()
    {
        lock (this)
        {
            if (_gone || _attached || _held || !_open || !_changed)
            {
                return false;
            }

            _attached = true;
            return true;
        }
    }

    /// <summary>Sends the lifecycle actor's snapshot element that will be saved to the store: the session counts as unchanged from here.</summary>
    public bool SendSnapshotForStore(Element element, IActorRef actor)
    {
        lock (this)
        {
            if (!Write(element, actor: actor))
            {
                return false;
            }

            _changed = false;
            return true;
        }
    }

    /// <summary>A save to the store succeeded (true) or failed (false: the state counts as changed again).</summary>
    public void SaveFinished(bool saved)
    {
        lock (this)
        {
            if (saved)
            {
                _persisted = true;
            }
            else
            {
                _changed = true;
            }
        }
    }

    /// <summary>The registry attaches an actor to an entry that has none (shutdown); false when gone or attached already.</summary>
    public bool TryAttach()
    {
        lock (this)
        {
            if (_gone || _attached)
            {
                return false;
            }

            _attached = true;
            return true;
        }
    }

    /// <summary>Holds and attaches an open, idle entry unused for <paramref name="afterMs"/>, for passivation.</summary>
    public bool TryHoldForPassivation(long now, long afterMs)
    {
        lock (this)
        {
            if (_gone || _attached || _held || !_open || !Idle || now - _lastUsed < afterMs)
            {
                return false;
            }

            _held = _attached = true;
            return true;
        }
    }

    /// <summary>Holds the entry once everything accepted has finished; when busy, <paramref name="watcher"/> hears <see cref="EntryIdle"/> later.</summary>
    public HoldResult HoldWhenIdle(IActorRef watcher)
    {
        lock (this)
        {
            if (_gone)
            {
                return HoldResult.Gone;
            }

            if (!_held && Idle)
            {
                _held = true;
                return HoldResult.Held;
            }

            _idleWatcher = watcher;
            return HoldResult.Busy;
        }
    }

    /// <summary>Loaded from the store: the restore element goes first, then the session is open at <paramref name="position"/>.</summary>
    public bool Resume(Element restore, long position, IActorRef actor)
    {
        lock (this)
        {
            if (!Write(restore, actor: actor))
            {
                return false;
            }

            _open = true;
            _position = position;
            _persisted = true;
            _resumed = true;
            _expired = false;
            return true;
        }
    }

    /// <summary>Loaded a tombstone: operations flow again, and all but open and restore are refused as expired.</summary>
    public void ReleaseExpired(string why)
    {
        lock (this)
        {
            _expired = true;
            _persisted = true;
            _closedBecause = why;
        }

        Release();
    }

    /// <summary>Operations flow again (those that waited first).</summary>
    public void Release(string? closedBecause = null)
    {
        IActorRef? watcher;
        lock (this)
        {
            if (closedBecause is not null)
            {
                _closedBecause = closedBecause;
            }

            _held = false;
            Drain();
            watcher = TakeIdleWatcher();
            RemoveIfClosedAndIdle();
        }

        watcher?.Tell(EntryIdle.Instance, ActorRefs.NoSender);
    }

    /// <summary>The lifecycle actor is done; a session left closed then leaves the directory.</summary>
    public void Detach()
    {
        lock (this)
        {
            _attached = false;
            RemoveIfClosedAndIdle();
        }
    }

    /// <summary>
    /// Ends a passivation whose snapshot is saved: when nothing arrived meanwhile, frees the slots (the close
    /// element goes last) and leaves the directory; the next operation resumes the session from the store.
    /// </summary>
    public bool TryFinishPassivation(Element close, bool passivated)
    {
        lock (this)
        {
            if (_waiting is { Count: > 0 } || !Write(close))
            {
                return false;
            }

            _open = false;
            if (passivated)
            {
                _directory.MarkPassivated(Id, _lastUsed);
            }

            Leave(null);
            return true;
        }
    }

    /// <summary>Leaves the directory (shutdown: saved or closed); anything still waiting is refused.</summary>
    public void Remove(Exception refusal)
    {
        lock (this)
        {
            Leave(refusal);
        }
    }

    /// <summary>Fails everything in flight and waiting with <paramref name="error"/> and leaves the directory (the pipeline is gone).</summary>
    public void Fail(Exception error)
    {
        (Element Element, SessionOperation? Operation, IActorRef? Actor)[] inFlight;
        lock (this)
        {
            inFlight = _inFlight.ToArray();
            _inFlight.Clear();
            Leave(error);
        }

        foreach (var element in inFlight)
        {
            element.Operation?.Fail(error);
        }
    }

    /// <summary>When the actor stopped without detaching (mid-phase), fails the entry like <see cref="Fail"/>; true then.</summary>
    public bool FailIfAbandoned(Exception error)
    {
        lock (this)
        {
            if (_gone || !_attached)
            {
                return false;
            }
        }

        Fail(error);
        return true;
    }

    // ---- Under the lock ----

    private void Leave(Exception? refusal)
    {
        _gone = true;
        _idleWatcher = null;
        _directory.Remove(this);
        while (_waiting is { Count: > 0 })
        {
            var operation = _waiting.Dequeue();
            operation.Fail(refusal ?? SessionContext.Stopped(Id, "the session left without applying it"));
        }
    }

    private void Drain()
    {
        var limit = Context.Options.MaxInFlightPerSession;
        while (!_held && _waiting is { Count: > 0 } && _inFlight.Count < limit)
        {
            Start(_waiting.Dequeue());
        }

        // Most sessions wait only for their open while loading: an idle session keeps no queue.
        if (_waiting is { Count: 0 })
        {
            _waiting = null;
        }
    }

    private IActorRef? TakeIdleWatcher()
    {
        if (_idleWatcher is null || _held || !Idle)
        {
            return null;
        }

        var watcher = _idleWatcher;
        _idleWatcher = null;
        return watcher;
    }

    // A closed (or never opened) session keeps nothing: its entry leaves once no actor works on it.
    private void RemoveIfClosedAndIdle()
    {
        if (!_open && !_attached && !_held && !_gone && Idle)
        {
            Leave(null);
        }
    }

    private void Start(SessionOperation operation)
    {
        var layers = Context.LayerCount;
        switch (operation)
        {
            case OpenOperation open when _open:
                open.Fail(new EngineException(EngineErrorCode.SessionAlreadyOpen,
                    "the session is already open; close it first, or restore a snapshot to replace its state.", Id));
                break;
            case OpenOperation open:
                if (Send(new Element(ElementKind.Open, Id, layers, this) { States = open.States }, open))
                {
                    _open = true;
                    _position = 0;
                    _changed = true;
                    _resumed = _expired = false;
                    Context.Counters.SessionOpened();
                }

                break;
            case RestoreOperation restore:
                if (Send(new Element(ElementKind.Restore, Id, layers, this) { States = restore.Snapshot.Layers, Position = restore.Snapshot.Position }, restore))
                {
                    if (!_open)
                    {
                        Context.Counters.SessionOpened();
                    }

                    _open = true;
                    _position = restore.Snapshot.Position;
                    _changed = true;
                    _resumed = _expired = false;
                }

                break;
            case not null when !_open && _expired:
                operation.Fail(new EngineException(EngineErrorCode.SessionExpired,
                    $"the session has expired ({_closedBecause}) and its state was deleted; open it again to start afresh.", Id));
                break;
            case not null when !_open:
                operation.Fail(new EngineException(EngineErrorCode.UnknownSession,
                    $"the session is not open on this engine{(_closedBecause is null ? "" : $" ({_closedBecause})")}; open it with OpenAsync or RestoreAsync first.", Id));
                break;
            case PushOperation { At: { } at } push when at != _position:
                push.Fail(OutOfPlace(at));
                break;
            case PushOperation push:
                if (Send(new Element(ElementKind.Token, Id, layers, this) { Data = push.Values, Ids = push.Ids, Position = _position + 1 }, push))
                {
                    _position++;
                    _changed = true;
                }

                break;
            case SnapshotOperation snapshot:
                Send(new Element(ElementKind.Snapshot, Id, layers, this) { Position = _position }, snapshot);
                break;
            case ReplayOperation replay:
                var element = new Element(ElementKind.Replay, Id, layers, this)
                {
                    Data = replay.Values,
                    Ids = replay.Ids,
                    Steps = replay.Steps,
                    States = replay.From,
                    Position = _position + replay.Steps,
                };
                if (Send(element, replay))
                {
                    _position += replay.Steps;
                    _changed = true;
                }

                break;
            case ResetOperation reset:
                if (Send(new Element(ElementKind.Reset, Id, layers, this), reset))
                {
                    _position = 0;
                    _changed = true;
                }

                break;
            case CloseOperation close:
                if (Send(new Element(ElementKind.Close, Id, layers, this), close))
                {
                    _open = false;
                    _closedBecause = "it was closed";
                    _changed = _resumed = false;
                    Context.Counters.SessionClosed();
                    if (_persisted)
                    {
                        // The store's copy goes too, or the next operation would resume the closed session from it; the
                        // entry stays (held) until then, so an operation sent meanwhile does not load that copy.
                        _persisted = false;
                        _held = true;
                        close.Deletion = DeleteStored();
                    }
                }

                break;
            default:
                throw new InvalidOperationException($"unknown session operation {operation?.GetType().Name}.");
        }
    }

    private async Task DeleteStored()
    {
        // Off the caller's thread: Start runs under the entry's lock, and the release must not run inside it.
        await Task.Yield();
        try
        {
            await Context.Store.DeleteAsync(Id).ConfigureAwait(false);
        }
        finally
        {
            Release();
        }
    }

    private EngineException OutOfPlace(long at)
    {
        if (at < _position)
        {
            return new EngineException(EngineErrorCode.DuplicateToken,
                $"the token is at position {at} but the session has consumed {_position} token(s): it was applied already and is not applied again; the next token's position is {_position}.", Id)
            { Position = _position };
        }

        var why = _resumed ? $"the session resumed at position {_position} from its last persisted snapshot" : $"the session is at position {_position}";
        return new EngineException(EngineErrorCode.PositionAhead,
            $"the token is at position {at} but {why}: tokens {_position} to {at - 1} are missing; resend from position {_position}.", Id)
        { Position = _position };
    }

    private bool Send(Element element, SessionOperation operation)
    {
        if (Write(element, operation))
        {
            return true;
        }

        operation.Fail(SessionContext.Stopped(Id, "its pipeline no longer accepts elements"));
        return false;
    }

    // Under the lock, so the channel receives a session's elements in the order they were applied.
    private bool Write(Element element, SessionOperation? operation = null, IActorRef? actor = null)
    {
        Context.Counters.EnteredPipeline();
        if (Context.Pipeline.TryWrite(element))
        {
            _inFlight.Enqueue((element, operation, actor));
            return true;
        }

        Context.Counters.LeftPipeline();
        return false;
    }
}
