using Akka.Actor;
using Akka.Event;
using Streaming.Pipeline;

namespace Streaming.Sessions;

/// <summary>
/// Owns one session's life cycle; the session's operations themselves go through its <see cref="SessionEntry"/>.
/// The registry starts it for one phase and it stops when the phase is done, so an idle resident session has no
/// actor at all:
/// <list type="bullet">
/// <item><b>Load</b>: a new entry (held) is resumed from the store when the store holds the session's snapshot
/// (after a passivation, or a shutdown of an engine on the same store): the restore goes first, then the held
/// operations; once the restore is through, the snapshot is deleted (a resident session is not in the store).</item>
/// <item><b>Passivate</b>: the idle entry (held by the registry's sweep) is snapshotted through the pipeline and
/// saved; if nothing arrived meanwhile its slots are freed and it leaves the directory (the next operation loads
/// it again), otherwise it stays resident and the snapshot is deleted.</item>
/// <item><b>Shutdown</b>: once everything accepted has finished, an open session is snapshotted and saved, and the
/// entry leaves.</item>
/// </list>
/// </summary>
internal sealed class SessionActor : UntypedActor
{
    private readonly SessionEntry _entry;
    private readonly SessionContext _context;
    private readonly bool _wasPassivated;
    private readonly LifecyclePhase _start;
    private Step _step = Step.Starting;
    private bool _shutdownRequested;

    /// <param name="entry">The session; attached to this actor by the registry.</param>
    /// <param name="context">The engine's shared parts.</param>
    /// <param name="phase">What to do first.</param>
    /// <param name="wasPassivated">Whether the registry counted the session as passivated (so it is open already).</param>
    public SessionActor(SessionEntry entry, SessionContext context, LifecyclePhase phase, bool wasPassivated)
    {
        _entry = entry;
        _context = context;
        _start = phase;
        _wasPassivated = wasPassivated;
    }

    private enum Step
    {
        Starting,
        Loading,
        Restoring,
        DeletingAfterResume,
        PassivationSnapshot,
        PassivationSave,
        PassivationDelete,
        WaitingIdle,
        ShutdownSnapshot,
        ShutdownSave,
    }

    private string Id => _entry.Id;

    protected override void PreStart()
    {
        switch (_start)
        {
            case LifecyclePhase.Load:
                _step = Step.Loading;
                _context.Store.LoadAsync(Id).PipeTo(Self, success: s => new Loaded(s), failure: e => new StoreFailed(e));
                break;
            case LifecyclePhase.Passivate:
                _step = Step.PassivationSnapshot;
                SendInternal(ElementKind.Snapshot);
                break;
            case LifecyclePhase.Shutdown:
                _shutdownRequested = true;
                BeginShutdown();
                break;
        }
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Element element:
                OnElement(element);
                break;
            case Loaded loaded:
                OnLoaded(loaded.Snapshot);
                break;
            case Saved:
                OnSaved();
                break;
            case Deleted:
                // Resident again, and the store no longer holds the session (a later close must not resurrect it).
                if (_step == Step.PassivationDelete)
                {
                    _entry.Release();
                }

                PhaseDone();
                break;
            case StoreFailed failed:
                OnStoreFailed(failed.Error);
                break;
            case SessionShutdown:
                _shutdownRequested = true;
                break;
            case EntryIdle:
                if (_step == Step.WaitingIdle)
                {
                    BeginShutdown();
                }

                break;
            case PipelineFailed:
                // The registry fails the entry's operations; nothing is left to do here.
                Context.Stop(Self);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void OnLoaded(SessionSnapshot? snapshot)
    {
        if (snapshot is null)
        {
            string? why = null;
            if (_wasPassivated)
            {
                why = "its passivated snapshot is missing from the store";
                _context.Counters.SessionClosed();
            }

            _entry.Release(why);
            PhaseDone();
            return;
        }

        // Later operations may follow at once: the pipeline applies the restore before them.
        var restore = new Element(ElementKind.Restore, _entry, _context.LayerCount) { States = snapshot.Layers, Position = snapshot.Position, Owner = Self };
        if (!_entry.Resume(restore, snapshot.Position))
        {
            Context.Stop(Self);
            return;
        }

        if (!_wasPassivated)
        {
            _context.Counters.SessionOpened();
        }

        _step = Step.Restoring;
        _entry.Release();
    }

    private void OnElement(Element element)
    {
        switch (_step)
        {
            case Step.Restoring:
                _step = Step.DeletingAfterResume;
                _context.Store.DeleteAsync(Id).PipeTo(Self, success: () => Deleted.Instance, failure: e => new StoreFailed(e));
                break;
            case Step.PassivationSnapshot:
                _step = Step.PassivationSave;
                Save(element);
                break;
            case Step.ShutdownSnapshot:
                _step = Step.ShutdownSave;
                Save(element);
                break;
        }
    }

    private void OnSaved()
    {
        if (_step == Step.ShutdownSave)
        {
            _entry.Remove(SessionContext.Stopped(Id, "it is shutting down"));
            Context.Stop(Self);
            return;
        }

        // Passivation: the close goes last; operations that arrived meanwhile keep the session resident instead.
        if (_entry.TryFinishPassivation(new Element(ElementKind.Close, _entry, _context.LayerCount)))
        {
            _context.Counters.SessionPassivated();
            Context.Stop(Self);
            return;
        }

        _step = Step.PassivationDelete;
        _context.Store.DeleteAsync(Id).PipeTo(Self, success: () => Deleted.Instance, failure: e => new StoreFailed(e));
    }

    private void OnStoreFailed(Exception error)
    {
        switch (_step)
        {
            case Step.Loading:
                var why = "its snapshot could not be loaded from the store: " + error.Message;
                if (_wasPassivated)
                {
                    _context.Counters.SessionClosed();
                }

                _entry.Release(why);
                break;
            case Step.PassivationSave:
                // The slots are still allocated: stay resident.
                Context.GetLogger().Warning(error, "Session {0}: passivation could not save the snapshot; the session stays resident.", Id);
                _entry.Release();
                break;
            case Step.PassivationDelete:
                Context.GetLogger().Warning(error, "Session {0}: deleting its snapshot after a cancelled passivation failed.", Id);
                _entry.Release();
                break;
            case Step.ShutdownSave:
                Context.GetLogger().Error(error, "Session {0}: the snapshot taken at shutdown could not be saved; the session's state is lost.", Id);
                _entry.Remove(SessionContext.Stopped(Id, "it is shutting down"));
                Context.Stop(Self);
                return;
            default:
                Context.GetLogger().Warning(error, "Session {0}: deleting its snapshot from the store after resuming failed.", Id);
                break;
        }

        PhaseDone();
    }

    private void PhaseDone()
    {
        if (_shutdownRequested)
        {
            BeginShutdown();
            return;
        }

        _entry.Detach();
        Context.Stop(Self);
    }

    private void BeginShutdown()
    {
        switch (_entry.HoldWhenIdle(Self))
        {
            case SessionEntry.HoldResult.Gone:
                Context.Stop(Self);
                break;
            case SessionEntry.HoldResult.Busy:
                _step = Step.WaitingIdle;
                break;
            case SessionEntry.HoldResult.Held when _entry.IsOpen:
                _step = Step.ShutdownSnapshot;
                SendInternal(ElementKind.Snapshot);
                break;
            case SessionEntry.HoldResult.Held:
                _entry.Remove(SessionContext.Stopped(Id, "it is shutting down"));
                Context.Stop(Self);
                break;
        }
    }

    private void Save(Element snapshot)
    {
        var saved = new SessionSnapshot(_context.Model, snapshot.Position, snapshot.Collected!);
        _context.Store.SaveAsync(Id, saved).PipeTo(Self, success: () => Saved.Instance, failure: e => new StoreFailed(e));
    }

    private void SendInternal(ElementKind kind)
    {
        var element = new Element(kind, _entry, _context.LayerCount) { Position = _entry.Position, Owner = Self };
        if (!_entry.SendInternal(element))
        {
            // The pipeline is gone; the registry fails everything else.
            Context.Stop(Self);
        }
    }
}
