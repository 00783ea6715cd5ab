using Akka.Actor;

namespace Streaming.Sessions;

/// <summary>
/// The one place that maps a session id to its actor (so cluster sharding can take its place). It creates a
/// session's actor on the session's first operation, buffers a session's operations while its actor hands off
/// (passivates or leaves after a close), and runs the engine's shutdown: every actor finishes what it accepted
/// and saves its open session, then the pipeline's input completes.
/// </summary>
internal sealed class SessionRegistry : UntypedActor
{
    private readonly SessionContext _context;
    private readonly Dictionary<string, IActorRef> _children = new(StringComparer.Ordinal);
    private readonly Dictionary<IActorRef, string> _ids = [];
    private readonly Dictionary<string, List<SessionOperation>> _handingOff = new(StringComparer.Ordinal);
    private readonly HashSet<string> _passivated = new(StringComparer.Ordinal);
    private long _created;
    private bool _stopping;
    private bool _inputCompleted;
    private Exception? _failure;
    private IActorRef? _shutdownRequester;

    public SessionRegistry(SessionContext context) => _context = context;

    protected override void PostStop()
    {
        // The actor system is going away: whatever waits here would never be answered.
        foreach (var id in _handingOff.Keys.ToList())
        {
            FailHeld(id, "its actor system stopped");
        }
    }

    // A session actor that throws has a bug; restarting it would silently reset the session.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case SessionOperation operation:
                Route(operation);
                break;
            case RequestHandoff request:
                if (!_stopping && _failure is null && _children.TryGetValue(request.SessionId, out var child) && !_handingOff.ContainsKey(request.SessionId))
                {
                    _handingOff[request.SessionId] = [];
                    child.Tell(Handoff.Instance);
                }

                break;
            case KeepRouting keep:
                if (_handingOff.Remove(keep.SessionId, out var held))
                {
                    foreach (var operation in held)
                    {
                        // Routing stays in order: the buffered operations go before anything newer.
                        if (_stopping || _failure is not null || !_children.TryGetValue(keep.SessionId, out var target))
                        {
                            operation.Fail(SessionContext.Stopped(operation.SessionId, "it is shutting down"));
                        }
                        else
                        {
                            target.Tell(operation);
                        }
                    }
                }

                break;
            case HandedOff handedOff:
                OnHandedOff(handedOff);
                break;
            case Terminated terminated:
                if (_ids.Remove(terminated.ActorRef, out var id))
                {
                    _children.Remove(id);
                    FailHeld(id, "the session's actor stopped");
                }

                CompleteShutdownIfDone();
                break;
            case Shutdown:
                _stopping = true;
                _shutdownRequester = Sender;
                foreach (var sessionActor in _children.Values)
                {
                    sessionActor.Tell(SessionShutdown.Instance);
                }

                CompleteShutdownIfDone();
                break;
            case PipelineStopped stopped:
                if (!_inputCompleted)
                {
                    _failure = stopped.Error ?? new InvalidOperationException("the pipeline completed before its input did");
                    foreach (var sessionActor in _children.Values)
                    {
                        sessionActor.Tell(new PipelineFailed(_failure));
                    }

                    foreach (var heldId in _handingOff.Keys.ToList())
                    {
                        FailHeld(heldId, "its pipeline failed: " + _failure.Message);
                    }
                }

                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Route(SessionOperation operation)
    {
        var id = operation.SessionId;
        if (_failure is not null || _stopping)
        {
            operation.Fail(SessionContext.Stopped(id, _failure is null ? "it is shutting down" : "its pipeline failed: " + _failure.Message));
            return;
        }

        if (_handingOff.TryGetValue(id, out var held))
        {
            held.Add(operation);
            return;
        }

        if (!_children.TryGetValue(id, out var child))
        {
            var wasPassivated = _passivated.Remove(id);
            if (wasPassivated)
            {
                _context.Counters.SessionResumed();
            }

            var context = _context;
            child = Context.ActorOf(Props.Create(() => new SessionActor(id, context, wasPassivated)), $"session-{++_created}");
            Context.Watch(child);
            _children[id] = child;
            _ids[child] = id;
        }

        child.Tell(operation);
    }

    private void OnHandedOff(HandedOff handedOff)
    {
        var id = handedOff.SessionId;
        if (_children.Remove(id, out var child))
        {
            _ids.Remove(child);
        }

        if (handedOff.Passivated)
        {
            _passivated.Add(id);
            _context.Counters.SessionPassivated();
        }

        if (_handingOff.Remove(id, out var held))
        {
            // The next operation creates a fresh actor, which resumes the session from the store.
            foreach (var operation in held)
            {
                Route(operation);
            }
        }

        CompleteShutdownIfDone();
    }

    private void FailHeld(string id, string why)
    {
        if (_handingOff.Remove(id, out var held))
        {
            foreach (var operation in held)
            {
                operation.Fail(SessionContext.Stopped(id, why));
            }
        }
    }

    private void CompleteShutdownIfDone()
    {
        if (!_stopping || _children.Count > 0)
        {
            return;
        }

        foreach (var id in _handingOff.Keys.ToList())
        {
            FailHeld(id, "it is shutting down");
        }

        if (!_inputCompleted)
        {
            _inputCompleted = true;
            _context.Pipeline.TryComplete();
        }

        _shutdownRequester?.Tell(ShutdownComplete.Instance);
        _shutdownRequester = null;
    }
}
