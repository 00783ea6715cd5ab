using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Event;

namespace Streaming.Cluster;

/// <summary>
/// The entity of one session on the node that owns it: it hands the session's operations to this node's
/// <see cref="RecurrentEngine"/> and replies each result (or refusal) to the asker.
/// </summary>
/// <remarks>
/// Order: the engine takes an operation into the session's queue on the calling thread, so calling it
/// synchronously in <c>Receive</c>, one message at a time, keeps the session's operations in the order the entity
/// received them; the replies complete later, while the next operations are already queued (pipelined).
/// Hand-off: <see cref="HandOffSession"/> evicts the session (the engine finishes every operation it accepted, then
/// saves the session into the shared store; a store failure keeps it here and is retried, see <see cref="HandOffSaves"/>)
/// and the entity stops only then, so the shard moves only after the session's state is in the store; the next node loads it on its first operation. A command that reaches the
/// entity after the hand-off began (it was in the mailbox behind the stop message) is sent back to the shard
/// region, which buffers it until the shard has its new home.
/// </remarks>
internal sealed class SessionEntity : ReceiveActor
{
    private readonly string _sessionId;
    private readonly RecurrentEngine _engine;
    private readonly Func<IActorRef> _region;
    private readonly HandOffSaves _handOffs;
    private readonly ILoggingAdapter _log = Context.GetLogger();

    public SessionEntity(string sessionId, RecurrentEngine engine, Func<IActorRef> region, HandOffSaves handOffs)
    {
        _sessionId = sessionId;
        _engine = engine;
        _region = region;
        _handOffs = handOffs;
        Serving();
    }

    public static Props Props(string sessionId, RecurrentEngine engine, Func<IActorRef> region, HandOffSaves handOffs) =>
        Akka.Actor.Props.Create(() => new SessionEntity(sessionId, engine, region, handOffs));

    private void Serving()
    {
        Receive<PushCommand>(c => Reply(c, _engine.PushAsync(_sessionId, c.Token), o => new OutputReply(o)));
        Receive<OpenCommand>(c => Reply(c, _engine.OpenAsync(_sessionId, c.InitialState)));
        Receive<SnapshotCommand>(c => Reply(c, _engine.SnapshotAsync(_sessionId), s => new SnapshotReply(s)));
        Receive<RestoreCommand>(c => Reply(c, _engine.RestoreAsync(_sessionId, c.Snapshot)));
        Receive<ReplayCommand>(c => Reply(c, _engine.ReplayAsync(_sessionId, c.Inputs, c.From), r => new ReplayReply(r)));
        Receive<ResetCommand>(c => Reply(c, _engine.ResetAsync(_sessionId)));
        Receive<CloseCommand>(c =>
        {
            Reply(c, _engine.CloseAsync(_sessionId));
            // Nothing to save once closed: the shard stops the entity, buffering what arrives meanwhile.
            Context.Parent.Tell(new Passivate(StopClosedSession.Instance));
        });
        Receive<StopClosedSession>(_ => Context.Stop(Self));
        ReceiveAsync<HandOffSession>(async _ =>
        {
            // A store failure keeps the session here and retries until the deadline (the mailbox waits meanwhile).
            await _handOffs.EvictAsync(_engine, _sessionId, _log).ConfigureAwait(true);
            Become(HandedOff);
            Self.Tell(PoisonPill.Instance);
        });
    }

    // What was queued behind the hand-off goes back to the region, in order, to follow the shard to its new home.
    private void HandedOff()
    {
        Receive<SessionCommand>(c => _region().Tell(c, Sender));
        Receive<HandOffSession>(_ => { });
        Receive<StopClosedSession>(_ => { });
    }

    private void Reply(SessionCommand command, Task task) => Reply(command, AsResult(task), _ => new DoneReply(_sessionId));

    private void Reply<T>(SessionCommand command, Task<T> task, Func<T, SessionReply> reply)
    {
        var asker = Sender;
        var sessionId = _sessionId;
        var requestId = command.RequestId;
        if (task.IsCompleted)
        {
            asker.Tell(Answer(task, reply, sessionId, requestId));
            return;
        }

        task.ContinueWith(t => asker.Tell(Answer(t, reply, sessionId, requestId)), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static SessionReply Answer<T>(Task<T> task, Func<T, SessionReply> reply, string sessionId, long requestId) =>
        (task.IsCompletedSuccessfully ? reply(task.Result) : ErrorReply.From(task.Exception is { } e ? e : new TaskCanceledException(), sessionId))
        with { RequestId = requestId };

    private static Task<bool> AsResult(Task task) => task.IsCompletedSuccessfully
        ? Task.FromResult(true)
        : task.ContinueWith(static t =>
        {
            t.GetAwaiter().GetResult();
            return true;
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
}
