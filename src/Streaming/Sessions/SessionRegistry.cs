using Akka.Actor;

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
        if (SessionContext.Options.PassivateAfter is { } after)
        {
            // Sessions passivate between PassivateAfter and 1.5 times it after their last activity.
            Timers.StartPeriodicTimer(nameof(Sweep), Sweep.Instance, after / 2);
        }
    }

    protected override void PostStop()
    {
        // The actor system is going away: whatever waits in a session would never be answered.
        FailAll("its actor system stopped");
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

        var afterMs = (long)SessionContext.Options.PassivateAfter!.Value.TotalMilliseconds;
        var now = Environment.TickCount64;
        foreach (var entry in _directory.Entries)
        {
            if (!_actors.ContainsKey(entry) && entry.TryHoldForPassivation(now, afterMs))
            {
                Start(entry, LifecyclePhase.Passivate, wasPassivated: false);
            }
        }
    }

    private void OnTerminated(IActorRef actor)
    {
        if (_entries.Remove(actor, out var entry))
        {
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

    private IActorRef Start(SessionEntry entry, LifecyclePhase phase, bool wasPassivated)
    {
        var context = SessionContext;
        var actor = Context.ActorOf(Props.Create(() => new SessionActor(entry, context, phase, wasPassivated)), $"session-{++_created}");
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
