using Akka.Actor;
using Akka.Event;
using Streaming.Persistence;
using Streaming.Pipeline;

namespace Streaming.Sessions;

/// <summary>
/// Owns one session's life cycle; the session's operations themselves go through its <see cref="SessionEntry"/>.
/// The registry starts it for one phase and it stops when the phase is done, so an idle resident session has no
/// actor at all:
/// <list type="bullet">
/// <item><b>Load</b>: a new entry (held) is resumed from the store when the store holds the session (after a
/// passivation, a checkpoint, an eviction or a shutdown, here or on another engine sharing the store): the restore
/// goes first, then the held operations. A tombstone, or a snapshot unused for longer than the time-to-live, makes
/// the session expired. The store keeps its copy until the session is closed.</item>
/// <item><b>Passivate</b> and <b>Evict</b>: the idle entry is held, snapshotted through the pipeline and saved; if
/// nothing arrived meanwhile its slots are freed and it leaves the directory (the next operation loads it again),
/// otherwise it stays resident.</item>
/// <item><b>Checkpoint</b>: a changed entry is snapshotted in order with its tokens, without holding it, and saved.</item>
/// <item><b>Expire</b>: the idle entry (held) is replaced in the store by a tombstone, its slots are freed and it leaves.</item>
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
    private readonly TaskCompletionSource<bool>? _eviction;
    private Step _step = Step.Starting;
    private bool _shutdownRequested;
    private DateTimeOffset _lastUsed;

    /// <param name="entry">The session; attached to this actor by the registry.</param>
    /// <param name="context">The engine's shared parts.</param>
    /// <param name="phase">What to do first.</param>
    /// <param name="wasPassivated">Whether the registry counted the session as passivated (so it is open already).</param>
    /// <param name="eviction">For <see cref="LifecyclePhase.Evict"/>: completed with whether the session left.</param>
    public SessionActor(SessionEntry entry, SessionContext context, LifecyclePhase phase, bool wasPassivated, TaskCompletionSource<bool>? eviction = null)
    {
        _entry = entry;
        _context = context;
        _start = phase;
        _wasPassivated = wasPassivated;
        _eviction = eviction;
    }

    private enum Step
    {
        Starting,
        Loading,
        ExpiringOnLoad,
        Restoring,
        PassivationSnapshot,
        PassivationSave,
        PassivationDelete,
        EvictionWaiting,
        CheckpointSnapshot,
        CheckpointSave,
        ExpirySave,
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
                SendSnapshot();
                break;
            case LifecyclePhase.Evict:
                BeginEviction();
                break;
            case LifecyclePhase.Checkpoint:
                _step = Step.CheckpointSnapshot;
                SendSnapshot();
                break;
            case LifecyclePhase.Expire:
                _step = Step.ExpirySave;
                _lastUsed = _entry.LastUsedUtc;
                Save(StoredSession.Expired(_lastUsed));
                break;
            case LifecyclePhase.Shutdown:
                _shutdownRequested = true;
                BeginShutdown();
                break;
        }
    }

    protected override void PostStop() =>
        // Stopped before deciding (pipeline gone, actor system stopping): the caller must not wait forever.
        _eviction?.TrySetException(SessionContext.Stopped(Id, "the eviction was interrupted"));

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Element element:
                OnElement(element);
                break;
            case Loaded loaded:
                OnLoaded(loaded.Stored);
                break;
            case Saved:
                OnSaved();
                break;
            case Deleted:
                // A cancelled passivation or expiry: the store's copy went with it; resident again.
                _entry.Release();
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
                else if (_step == Step.EvictionWaiting)
                {
                    BeginEviction();
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

    private void OnLoaded(StoredSession? stored)
    {
        if (stored is null)
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

        var expireAfter = _context.Options.ExpireAfter;
        if (stored.Snapshot is null || (expireAfter is { } ttl && DateTimeOffset.UtcNow - stored.LastUsed > ttl))
        {
            _lastUsed = stored.LastUsed;
            if (_wasPassivated)
            {
                _context.Counters.SessionClosed();
            }

            if (stored.Snapshot is null)
            {
                ReleaseExpired();
                return;
            }

            // Found past its time-to-live (no sweep saw it: its engine stopped): it expires now.
            _step = Step.ExpiringOnLoad;
            Save(StoredSession.Expired(stored.LastUsed));
            return;
        }

        // Later operations may follow at once: the pipeline applies the restore before them.
        var snapshot = stored.Snapshot;
        var restore = new Element(ElementKind.Restore, Id, _context.LayerCount, _entry) { States = snapshot.Layers, Position = snapshot.Position };
        if (!_entry.Resume(restore, snapshot.Position, Self))
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

    private void ReleaseExpired()
    {
        _context.Counters.SessionExpired();
        _entry.ReleaseExpired($"it was idle since {_lastUsed:u}, longer than its time-to-live");
        PhaseDone();
    }

    private void OnElement(Element element)
    {
        switch (_step)
        {
            case Step.Restoring:
                PhaseDone();
                break;
            case Step.PassivationSnapshot:
                _step = Step.PassivationSave;
                Save(element);
                break;
            case Step.CheckpointSnapshot:
                _step = Step.CheckpointSave;
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
        switch (_step)
        {
            case Step.ExpiringOnLoad:
                ReleaseExpired();
                return;
            case Step.ShutdownSave:
                _entry.SaveFinished(saved: true);
                _entry.Remove(SessionContext.Stopped(Id, "it is shutting down"));
                Context.Stop(Self);
                return;
            case Step.CheckpointSave:
                _entry.SaveFinished(saved: true);
                _context.Counters.CheckpointSaved();
                PhaseDone();
                return;
            case Step.ExpirySave:
                FinishLeaving(expired: true);
                return;
            default:
                _entry.SaveFinished(saved: true);
                FinishLeaving(expired: false);
                return;
        }
    }

    // Passivation, eviction or expiry: the close goes last; operations that arrived meanwhile keep the session resident.
    private void FinishLeaving(bool expired)
    {
        var passivating = _start == LifecyclePhase.Passivate;
        if (_entry.TryFinishPassivation(new Element(ElementKind.Close, Id, _context.LayerCount, _entry), passivating))
        {
            if (passivating)
            {
                _context.Counters.SessionPassivated();
            }
            else
            {
                _context.Counters.SessionClosed();
                if (expired)
                {
                    _context.Counters.SessionExpired();
                }
            }

            _eviction?.TrySetResult(true);
            Context.Stop(Self);
            return;
        }

        _eviction?.TrySetResult(false);
        if (expired)
        {
            // The tombstone must not outlive the cancelled expiry.
            _step = Step.PassivationDelete;
            _context.Store.DeleteAsync(Id).PipeTo(Self, success: () => Deleted.Instance, failure: e => new StoreFailed(e));
            return;
        }

        _entry.Release();
        PhaseDone();
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
            case Step.ExpiringOnLoad:
                Context.GetLogger().Warning(error, "Session {0}: saving the tombstone of an expired session failed.", Id);
                ReleaseExpired();
                return;
            case Step.PassivationSave:
                // The slots are still allocated: stay resident.
                Context.GetLogger().Warning(error, "Session {0}: {1} could not save the snapshot; the session stays resident.", Id, _start);
                _entry.SaveFinished(saved: false);
                _eviction?.TrySetException(new EngineException(EngineErrorCode.StoreFailed,
                    $"the session could not be saved into the store ({error.Message}); it stays resident here.", Id));
                _entry.Release();
                break;
            case Step.CheckpointSave:
                Context.GetLogger().Warning(error, "Session {0}: the checkpoint could not be saved; the next one tries again.", Id);
                _entry.SaveFinished(saved: false);
                break;
            case Step.ExpirySave:
                Context.GetLogger().Warning(error, "Session {0}: expiring it could not save its tombstone; it stays resident.", Id);
                _entry.Release();
                break;
            case Step.PassivationDelete:
                Context.GetLogger().Warning(error, "Session {0}: deleting the tombstone of a cancelled expiry failed.", Id);
                _entry.Release();
                break;
            case Step.ShutdownSave:
                Context.GetLogger().Error(error, "Session {0}: the snapshot taken at shutdown could not be saved; the session's state since its last save is lost.", Id);
                _entry.SaveFinished(saved: false);
                _entry.Remove(SessionContext.Stopped(Id, "it is shutting down"));
                Context.Stop(Self);
                return;
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

    private void BeginEviction()
    {
        switch (HoldAndSnapshot(Step.EvictionWaiting, Step.PassivationSnapshot))
        {
            case SessionEntry.HoldResult.Gone:
                _eviction?.TrySetResult(false);
                Context.Stop(Self);
                break;
            case SessionEntry.HoldResult.Held:
                _eviction?.TrySetResult(false);
                _entry.Release();
                PhaseDone();
                break;
        }
    }

    private void BeginShutdown()
    {
        switch (HoldAndSnapshot(Step.WaitingIdle, Step.ShutdownSnapshot))
        {
            case SessionEntry.HoldResult.Gone:
                Context.Stop(Self);
                break;
            case SessionEntry.HoldResult.Held:
                _entry.Remove(SessionContext.Stopped(Id, "it is shutting down"));
                Context.Stop(Self);
                break;
        }
    }

    // Holds the entry once everything it accepted has finished and, when open, snapshots it (step snapshotting);
    // while busy, waits for EntryIdle in step waiting. Null then; otherwise what it found: Gone, or Held but closed.
    private SessionEntry.HoldResult? HoldAndSnapshot(Step waiting, Step snapshotting)
    {
        var found = _entry.HoldWhenIdle(Self);
        switch (found)
        {
            case SessionEntry.HoldResult.Busy:
                _step = waiting;
                return null;
            case SessionEntry.HoldResult.Held when _entry.IsOpen:
                _step = snapshotting;
                SendSnapshot();
                return null;
            default:
                return found;
        }
    }

    private void Save(Element snapshot) =>
        Save(new StoredSession(new SessionSnapshot(_context.Model, snapshot.Position, snapshot.Collected!), _entry.LastUsedUtc));

    private void Save(StoredSession stored) =>
        _context.Store.SaveAsync(Id, stored).PipeTo(Self, success: () => Saved.Instance, failure: e => new StoreFailed(e));

    private void SendSnapshot()
    {
        var element = new Element(ElementKind.Snapshot, Id, _context.LayerCount, _entry) { Position = _entry.Position };
        if (!_entry.SendSnapshotForStore(element, Self))
        {
            // The pipeline is gone; the registry fails everything else.
            Context.Stop(Self);
        }
    }
}
