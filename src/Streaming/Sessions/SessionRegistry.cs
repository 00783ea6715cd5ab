using Akka.Actor;
using Akka.Event;
using Streaming.Persistence;
using Streaming.Pipeline;

namespace Streaming.Sessions;

/// <summary>
/// Owns the <see cref="SessionDirectory"/> (the one map from session id to session, which callers read
/// directly) and the sessions' life cycles: it starts a <see cref="SessionActor"/> to load each new entry, sweeps
/// for idle sessions to passivate, and runs the engine's shutdown: every session finishes what it accepted and
/// is saved if open, then the pipeline's input completes. An idle resident session has no actor.
/// </summary>
internal sealed class SessionRegistry : UntypedActor, IWithTimers
{
    private readonly SessionDirectory _directory;
    private readonly Dictionary<SessionEntry, IActorRef> _actors = [];
    private readonly Dictionary<IActorRef, SessionEntry> _entries = [];
    // Evictions of sessions whose actor was busy with another phase: tried again when it stops.
    private readonly Dictionary<string, List<TaskCompletionSource<bool>>> _pendingEvictions = new(StringComparer.Ordinal);
    private long _created;
    private bool _stopping;
    private bool _inputCompleted;
    private Exception? _failure;
    private IActorRef? _shutdownRequester;

    public SessionRegistry(SessionDirectory directory) => _directory = directory;

    public ITimerScheduler Timers { get; set; } = null!;

    private SessionContext SessionContext => _directory.Context;

    protected override void PreStart()
    {
        var options = SessionContext.Options;
        TimeSpan? sweepEvery = (options.PassivateAfter, options.ExpireAfter) switch
        {
            ({ } passivate, { } expire) => (passivate < expire ? passivate : expire) / 2,
            ({ } passivate, null) => passivate / 2,
            (null, { } expire) => expire / 2,
            _ => null,
        };
        if (sweepEvery is { } every)
        {
            // Sessions passivate (expire) between PassivateAfter (ExpireAfter) and 1.5 times it after their last activity.
            Timers.StartPeriodicTimer(nameof(Sweep), Sweep.Instance, every);
        }

        if (options.CheckpointEvery is { } checkpointEvery)
        {
            Timers.StartPeriodicTimer(nameof(Checkpoint), Checkpoint.Instance, checkpointEvery);
        }
    }

    protected override void PostStop()
    {
        // The actor system is going away: whatever waits in a session would never be answered.
        FailAll("its actor system stopped");
        foreach (var (id, evictions) in _pendingEvictions)
        {
            evictions.ForEach(e => e.TrySetException(SessionContext.Stopped(id, "its actor system stopped")));
        }
    }

    // A session actor that throws has a bug; restarting it would silently reset the session.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Activate activate:
                OnActivate(activate.Entry);
                break;
            case Sweep:
                OnSweep();
                break;
            case Checkpoint:
                OnCheckpoint();
                break;
            case Evict evict:
                OnEvict(evict.SessionId, evict.Completion);
                break;
            case Terminated terminated:
                OnTerminated(terminated.ActorRef);
                break;
            case Shutdown:
                OnShutdown();
                break;
            case PipelineStopped stopped:
                if (!_inputCompleted)
                {
                    _failure = stopped.Error ?? new InvalidOperationException("the pipeline completed before its input did");
                    FailAll("its pipeline failed: " + _failure.Message);
                    foreach (var actor in _actors.Values)
                    {
                        actor.Tell(new PipelineFailed(_failure));
                    }
                }

                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void OnActivate(SessionEntry entry)
    {
        if (_failure is not null)
        {
            entry.Fail(SessionContext.Stopped(entry.Id, "its pipeline failed: " + _failure.Message));
            return;
        }

        var wasPassivated = _directory.TakePassivated(entry.Id);
        if (wasPassivated)
        {
            SessionContext.Counters.SessionResumed();
        }

        var actor = Start(entry, LifecyclePhase.Load, wasPassivated);
        if (_stopping)
        {
            actor.Tell(SessionShutdown.Instance);
        }
    }

    private void OnSweep()
    {
        if (_stopping || _failure is not null)
        {
            return;
        }

        var options = SessionContext.Options;
        var passivateMs = options.PassivateAfter is { } passivate ? (long)passivate.TotalMilliseconds : long.MaxValue;
        var expireMs = options.ExpireAfter is { } expire ? (long)expire.TotalMilliseconds : long.MaxValue;
        var now = Environment.TickCount64;
        foreach (var entry in _directory.Entries)
        {
            if (_actors.ContainsKey(entry))
            {
                continue;
            }

            if (entry.TryHoldForPassivation(now, expireMs))
            {
                Start(entry, LifecyclePhase.Expire, wasPassivated: false);
            }
            else if (entry.TryHoldForPassivation(now, passivateMs))
            {
                Start(entry, LifecyclePhase.Passivate, wasPassivated: false);
            }
        }

        if (options.ExpireAfter is { } ttl)
        {
            foreach (var id in _directory.PassivatedBefore(now - expireMs))
            {
                if (_directory.Find(id) is null && _directory.TakePassivated(id))
                {
                    SessionContext.Counters.SessionResumed();
                    SessionContext.Counters.SessionClosed();
                    ExpireStored(id, ttl, SessionContext, Context.GetLogger());
                }
            }
        }
    }

    // A passivated session idle past its time-to-live: its stored snapshot becomes a tombstone, unless it was used
    // since (resumed elsewhere, on an engine sharing the store).
    private static async void ExpireStored(string id, TimeSpan ttl, SessionContext context, ILoggingAdapter log)
    {
        try
        {
            var stored = await context.Store.LoadAsync(id).ConfigureAwait(false);
            if (stored is { Snapshot: not null } && DateTimeOffset.UtcNow - stored.LastUsed > ttl)
            {
                await context.Store.SaveAsync(id, StoredSession.Expired(stored.LastUsed)).ConfigureAwait(false);
                context.Counters.SessionExpired();
            }
        }
        catch (Exception e)
        {
            log.Warning(e, "Session {0}: expiring its passivated snapshot failed; it expires when next used instead.", id);
        }
    }

    private void OnCheckpoint()
    {
        if (_stopping || _failure is not null)
        {
            return;
        }

        foreach (var entry in _directory.Entries)
        {
            if (!_actors.ContainsKey(entry) && entry.TryAttachForCheckpoint())
            {
                Start(entry, LifecyclePhase.Checkpoint, wasPassivated: false);
            }
        }
    }

    private void OnEvict(string sessionId, TaskCompletionSource<bool> completion)
    {
        if (_failure is not null || _stopping)
        {
            completion.TrySetException(SessionContext.Stopped(sessionId, _failure is null ? "it is shutting down" : "its pipeline failed: " + _failure.Message));
            return;
        }

        var entry = _directory.Find(sessionId);
        if (entry is null)
        {
            completion.TrySetResult(false);
            return;
        }

        if (_actors.ContainsKey(entry) || !entry.TryAttach())
        {
            // Another phase is running: evict when it is done.
            if (!_pendingEvictions.TryGetValue(sessionId, out var waiting))
            {
                _pendingEvictions[sessionId] = waiting = [];
            }

            waiting.Add(completion);
            return;
        }

        Start(entry, LifecyclePhase.Evict, wasPassivated: false, completion);
    }

    private void OnTerminated(IActorRef actor)
    {
        if (_entries.Remove(actor, out var entry))
        {
            if (_pendingEvictions.Remove(entry.Id, out var evictions))
            {
                foreach (var eviction in evictions)
                {
                    Self.Tell(new Evict(entry.Id, eviction));
                }
            }

            _actors.Remove(entry);
            if (entry.FailIfAbandoned(SessionContext.Stopped(entry.Id, "the session's actor stopped")))
            {
                // It stopped in the middle of a phase (a bug, or the pipeline failed): its operations failed.
            }
            else if (_stopping && _failure is null && entry.TryAttach())
            {
                // It finished its phase as the shutdown began: save the session now.
                Start(entry, LifecyclePhase.Shutdown, wasPassivated: false);
            }
        }

        CompleteShutdownIfDone();
    }

    private void OnShutdown()
    {
        _stopping = true;
        _shutdownRequester = Sender;
        _directory.Refuse("it is shutting down");
        foreach (var entry in _directory.Entries)
        {
            if (_actors.TryGetValue(entry, out var actor))
            {
                actor.Tell(SessionShutdown.Instance);
            }
            else if (entry.TryAttach())
            {
                Start(entry, LifecyclePhase.Shutdown, wasPassivated: false);
            }
        }

        CompleteShutdownIfDone();
    }

    private IActorRef Start(SessionEntry entry, LifecyclePhase phase, bool wasPassivated, TaskCompletionSource<bool>? eviction = null)
    {
        var context = SessionContext;
        var actor = Context.ActorOf(Props.Create(() => new SessionActor(entry, context, phase, wasPassivated, eviction)), $"session-{++_created}");
        Context.Watch(actor);
        _actors[entry] = actor;
        _entries[actor] = entry;
        return actor;
    }

    private void FailAll(string why)
    {
        _directory.Refuse(why);
        foreach (var entry in _directory.Entries)
        {
            entry.Fail(SessionContext.Stopped(entry.Id, why));
        }
    }

    private void CompleteShutdownIfDone()
    {
        if (!_stopping || _actors.Count > 0)
        {
            return;
        }

        if (!_inputCompleted)
        {
            _inputCompleted = true;
            SessionContext.Pipeline.TryComplete();
        }

        _shutdownRequester?.Tell(ShutdownComplete.Instance);
        _shutdownRequester = null;
    }
}
