using Debug = System.Diagnostics.Debug;
using Akka.Actor;
using Akka.Event;
using Streaming.Pipeline;

namespace Streaming.Sessions;

/// <summary>
/// Owns one session: its position, the order of its operations, how many of them are in the pipeline
/// (at most <see cref="EngineOptions.MaxInFlightPerSession"/>; the rest wait here), the replies, and its
/// life cycle. It starts by loading the session's snapshot from the store (present when the session was
/// passivated or saved at a shutdown), so a resident session is one whose snapshot is not in the store.
/// When idle past <see cref="EngineOptions.PassivateAfter"/> it snapshots through the pipeline, saves,
/// closes its slots and leaves (with the registry's consent, so no operation is lost on the way).
/// </summary>
internal sealed class SessionActor : UntypedActor
{
    private readonly string _id;
    private readonly SessionContext _context;
    private readonly bool _wasPassivated;
    private readonly Queue<SessionOperation> _pending = new();
    private readonly Queue<InFlight> _inFlight = new();
    private readonly ILoggingAdapter _log = Context.GetLogger();
    private Mode _mode = Mode.Loading;
    private bool _open;
    private long _position;
    private bool _storeBusy;
    private bool _handoffRequested;
    private bool _shutdownRequested;
    private string? _closedBecause;

    /// <param name="id">The session.</param>
    /// <param name="context">The engine's shared parts.</param>
    /// <param name="wasPassivated">Whether the registry counts the session as passivated (so it is open already).</param>
    public SessionActor(string id, SessionContext context, bool wasPassivated)
    {
        _id = id;
        _context = context;
        _wasPassivated = wasPassivated;
    }

    private enum Mode
    {
        Loading,
        Active,
        Passivating,
        Saving,
    }

    private enum Purpose
    {
        Operation,
        Resume,
        PassivationSnapshot,
        PassivationClose,
        ShutdownSnapshot,
    }

    private bool Idle => _pending.Count == 0 && _inFlight.Count == 0 && !_storeBusy;

    protected override void PreStart()
    {
        if (_context.Options.PassivateAfter is { } after)
        {
            Context.SetReceiveTimeout(after);
        }

        _storeBusy = true;
        _context.Store.LoadAsync(_id).PipeTo(Self, success: s => new Loaded(s), failure: e => new StoreFailed(e));
    }

    protected override void PostStop()
    {
        var stopped = SessionContext.Stopped(_id, "the session's actor stopped");
        foreach (var flight in _inFlight)
        {
            flight.Operation?.Fail(stopped);
        }

        foreach (var operation in _pending)
        {
            operation.Fail(stopped);
        }
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Element element:
                Completed(element);
                break;
            case SessionOperation operation:
                _pending.Enqueue(operation);
                break;
            case Loaded loaded:
                OnLoaded(loaded.Snapshot);
                break;
            case Saved:
                OnSaved();
                break;
            case Deleted:
                _storeBusy = false;
                break;
            case StoreFailed failed:
                OnStoreFailed(failed.Error);
                break;
            case ReceiveTimeout:
                if (_mode == Mode.Active && _open && Idle && !_handoffRequested && !_shutdownRequested)
                {
                    RequestHandoff();
                }

                break;
            case Handoff:
                OnHandoff();
                break;
            case SessionShutdown:
                _shutdownRequested = true;
                break;
            case PipelineFailed failed:
                var stopped = SessionContext.Stopped(_id, "its pipeline failed: " + failed.Error.Message);
                FailAll(stopped);
                Context.Stop(Self);
                return;
            default:
                Unhandled(message);
                return;
        }

        Progress();
    }

    private void Progress()
    {
        if (_mode != Mode.Active)
        {
            return;
        }

        while (_pending.Count > 0 && _inFlight.Count < _context.Options.MaxInFlightPerSession)
        {
            Start(_pending.Dequeue());
        }

        if (!Idle)
        {
            return;
        }

        if (_shutdownRequested)
        {
            if (_open)
            {
                _mode = Mode.Saving;
                SendInternal(new Element(ElementKind.Snapshot, _id, Self, _context.LayerCount) { Position = _position }, Purpose.ShutdownSnapshot);
            }
            else
            {
                Context.Stop(Self);
            }
        }
        else if (!_open && !_handoffRequested)
        {
            // A closed session's actor has nothing to keep: leave.
            RequestHandoff();
        }
    }

    private void Start(SessionOperation operation)
    {
        switch (operation)
        {
            case OpenOperation open when _open:
                open.Fail(new EngineException(EngineErrorCode.SessionAlreadyOpen,
                    "the session is already open; close it first, or restore a snapshot to replace its state.", _id));
                break;
            case OpenOperation open:
                if (Send(new Element(ElementKind.Open, _id, Self, _context.LayerCount) { States = open.States }, open))
                {
                    _open = true;
                    _position = 0;
                    _context.Counters.SessionOpened();
                }

                break;
            case RestoreOperation restore:
                if (Send(new Element(ElementKind.Restore, _id, Self, _context.LayerCount) { States = restore.Snapshot.Layers, Position = restore.Snapshot.Position }, restore))
                {
                    if (!_open)
                    {
                        _context.Counters.SessionOpened();
                    }

                    _open = true;
                    _position = restore.Snapshot.Position;
                }

                break;
            case not null when !_open:
                operation.Fail(new EngineException(EngineErrorCode.UnknownSession,
                    $"the session is not open on this engine{(_closedBecause is null ? "" : $" ({_closedBecause})")}; open it with OpenAsync or RestoreAsync first.", _id));
                break;
            case PushOperation push:
                if (Send(new Element(ElementKind.Token, _id, Self, _context.LayerCount) { Data = push.Values, Ids = push.Ids, Position = _position + 1 }, push))
                {
                    _position++;
                }

                break;
            case SnapshotOperation snapshot:
                Send(new Element(ElementKind.Snapshot, _id, Self, _context.LayerCount) { Position = _position }, snapshot);
                break;
            case ReplayOperation replay:
                var element = new Element(ElementKind.Replay, _id, Self, _context.LayerCount)
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
                }

                break;
            case ResetOperation reset:
                if (Send(new Element(ElementKind.Reset, _id, Self, _context.LayerCount), reset))
                {
                    _position = 0;
                }

                break;
            case CloseOperation close:
                if (Send(new Element(ElementKind.Close, _id, Self, _context.LayerCount), close))
                {
                    _open = false;
                    _closedBecause = "it was closed";
                    _context.Counters.SessionClosed();
                }

                break;
            default:
                throw new InvalidOperationException($"unknown session operation {operation?.GetType().Name}.");
        }
    }

    private void Completed(Element element)
    {
        var flight = _inFlight.Dequeue();
        Debug.Assert(ReferenceEquals(flight.Element, element), "the pipeline keeps each session's elements in order");
        switch (flight.Purpose)
        {
            case Purpose.Operation:
                flight.Operation!.Reply(element, _context);
                break;
            case Purpose.Resume:
                // Resident again: the store no longer holds the session (a later close must not resurrect it).
                _storeBusy = true;
                _context.Store.DeleteAsync(_id).PipeTo(Self, success: () => Deleted.Instance, failure: e => new StoreFailed(e));
                break;
            case Purpose.PassivationSnapshot:
            case Purpose.ShutdownSnapshot:
                _storeBusy = true;
                var snapshot = new SessionSnapshot(_context.Model, element.Position, element.Collected!);
                _context.Store.SaveAsync(_id, snapshot).PipeTo(Self, success: () => Saved.Instance, failure: e => new StoreFailed(e));
                break;
            case Purpose.PassivationClose:
                Context.Parent.Tell(new HandedOff(_id, Passivated: true));
                Context.Stop(Self);
                break;
        }
    }

    private void OnLoaded(SessionSnapshot? snapshot)
    {
        _storeBusy = false;
        _mode = Mode.Active;
        if (snapshot is null)
        {
            if (_wasPassivated)
            {
                _closedBecause = "its passivated snapshot is missing from the store";
                _context.Counters.SessionClosed();
            }

            return;
        }

        // Later operations may follow at once: the pipeline applies the restore before them.
        if (SendInternal(new Element(ElementKind.Restore, _id, Self, _context.LayerCount) { States = snapshot.Layers, Position = snapshot.Position }, Purpose.Resume))
        {
            _open = true;
            _position = snapshot.Position;
            if (!_wasPassivated)
            {
                _context.Counters.SessionOpened();
            }
        }
    }

    private void OnHandoff()
    {
        _handoffRequested = false;
        if (_mode != Mode.Active || !Idle || _shutdownRequested || (_open && _context.Options.PassivateAfter is null))
        {
            Context.Parent.Tell(new KeepRouting(_id));
        }
        else if (!_open)
        {
            Context.Parent.Tell(new HandedOff(_id, Passivated: false));
            Context.Stop(Self);
        }
        else
        {
            _mode = Mode.Passivating;
            SendInternal(new Element(ElementKind.Snapshot, _id, Self, _context.LayerCount) { Position = _position }, Purpose.PassivationSnapshot);
        }
    }

    private void OnSaved()
    {
        _storeBusy = false;
        if (_mode == Mode.Passivating)
        {
            _open = false;
            SendInternal(new Element(ElementKind.Close, _id, Self, _context.LayerCount), Purpose.PassivationClose);
        }
        else if (_mode == Mode.Saving)
        {
            Context.Stop(Self);
        }
    }

    private void OnStoreFailed(Exception error)
    {
        _storeBusy = false;
        switch (_mode)
        {
            case Mode.Loading:
                _mode = Mode.Active;
                _closedBecause = "its snapshot could not be loaded from the store: " + error.Message;
                if (_wasPassivated)
                {
                    _context.Counters.SessionClosed();
                }

                break;
            case Mode.Passivating:
                // The slots are still allocated: stay resident.
                _log.Warning(error, "Session {0}: passivation could not save the snapshot; the session stays resident.", _id);
                _mode = Mode.Active;
                Context.Parent.Tell(new KeepRouting(_id));
                break;
            case Mode.Saving:
                _log.Error(error, "Session {0}: the snapshot taken at shutdown could not be saved; the session's state is lost.", _id);
                Context.Stop(Self);
                break;
            default:
                _log.Warning(error, "Session {0}: deleting its snapshot from the store after resuming failed.", _id);
                break;
        }
    }

    private void RequestHandoff()
    {
        _handoffRequested = true;
        Context.Parent.Tell(new RequestHandoff(_id));
    }

    private bool Send(Element element, SessionOperation operation)
    {
        if (!Write(element))
        {
            operation.Fail(SessionContext.Stopped(_id, "its pipeline no longer accepts elements"));
            return false;
        }

        _inFlight.Enqueue(new InFlight(element, operation, Purpose.Operation));
        return true;
    }

    private bool SendInternal(Element element, Purpose purpose)
    {
        if (!Write(element))
        {
            // The pipeline is gone; the registry fails everything else.
            Context.Stop(Self);
            return false;
        }

        _inFlight.Enqueue(new InFlight(element, null, purpose));
        return true;
    }

    private bool Write(Element element)
    {
        _context.Counters.EnteredPipeline();
        if (_context.Pipeline.TryWrite(element))
        {
            return true;
        }

        _context.Counters.LeftPipeline();
        return false;
    }

    private void FailAll(Exception error)
    {
        while (_inFlight.TryDequeue(out var flight))
        {
            flight.Operation?.Fail(error);
        }

        while (_pending.TryDequeue(out var operation))
        {
            operation.Fail(error);
        }
    }

    private readonly record struct InFlight(Element Element, SessionOperation? Operation, Purpose Purpose);
}
