using System.Collections.Concurrent;
using Akka.Actor;

namespace Streaming.Cluster;

/// <summary>
/// The calls this node has sent and not yet had answered, keyed by request id, and the actor that receives their
/// answers. It resends what may be resent (tokens with a position) until answered, and fails what times out.
/// </summary>
internal sealed class PendingCalls
{
    private readonly ConcurrentDictionary<long, Call> _calls = new();
    private readonly IActorRef _region;
    private readonly ShardingOptions _options;
    private long _lastId;

    public PendingCalls(ActorSystem system, IActorRef region, ShardingOptions options)
    {
        _region = region;
        _options = options;
        var sweep = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(5).Ticks, Math.Min(options.ResendAfter.Ticks, options.AskTimeout.Ticks) / 4));
        Receiver = ((ExtendedActorSystem)system).SystemActorOf(Props.Create(() => new ReplyReceiver(this, sweep)));
        // Nothing answers once the actor system has stopped: fail what is still waiting rather than leave it forever.
        system.WhenTerminated.ContinueWith(_ => FailAll(), TaskScheduler.Default);
    }

    /// <summary>The actor the owners answer to.</summary>
    public IActorRef Receiver { get; }

    /// <summary>Numbers <paramref name="command"/>, sends it to the region and returns its answer.</summary>
    public Task<SessionReply> SendAsync(SessionCommand command)
    {
        var numbered = command with { RequestId = Interlocked.Increment(ref _lastId) };
        var now = DateTime.UtcNow;
        var call = new Call(numbered, now + _options.AskTimeout, numbered is PushCommand { Token.At: not null }) { NextSend = now + _options.ResendAfter };
        _calls[numbered.RequestId] = call;
        _region.Tell(numbered, Receiver);
        return call.Completion.Task;
    }

    // On the receiver's thread.
    private void Answer(SessionReply reply)
    {
        if (!_calls.TryGetValue(reply.RequestId, out var call))
        {
            return; // answered already (a resent copy's answer) or timed out
        }

        if (call.Resendable && reply is ErrorReply error)
        {
            // A copy this node resent, which the session had applied already: its answer is the first copy's output.
            // The session kept it (it was applied by that first copy, whose own answer may be lost with a crashed owner).
            if (error is { Code: EngineErrorCode.DuplicateToken, Output: { } output } && call.Sends > 1)
            {
                reply = new OutputReply(output) { RequestId = reply.RequestId };
            }

            // Not kept: the first copy's output is on its way (answers are never dropped), unless its owner crashed.
            else if (error.Code == EngineErrorCode.DuplicateToken && call.Sends > 1)
            {
                return;
            }

            // An earlier token of the session, sent from here, is still unanswered: it was dropped in a hand-off and is
            // being resent. This one is resent after it; once nothing earlier is pending, the refusal stands.
            if (error.Code == EngineErrorCode.PositionAhead && EarlierPending(call))
            {
                call.Held = error;
                return;
            }
        }

        if (_calls.TryRemove(reply.RequestId, out _))
        {
            call.Completion.TrySetResult(reply);
        }
    }

    // On the receiver's thread.
    private void Sweep()
    {
        var now = DateTime.UtcNow;
        foreach (var (id, call) in _calls)
        {
            if (call.Held is not null && !EarlierPending(call))
            {
                // What it waited for has been answered: send it again now; that answer stands, whatever it is.
                call.Held = null;
                Resend(call, now);
            }
            else if (now >= call.Deadline)
            {
                Finish(id, call, Unanswered(call));
            }
            else if (call.Resendable && now >= call.NextSend)
            {
                Resend(call, now);
            }
        }
    }

    // A token with a position can be sent again safely, so its refusal says from where; anything else may have been applied.
    private EngineException Unanswered(Call call)
    {
        var waited = $"no answer from the node that owns the session within {_options.AskTimeout.TotalSeconds:0.###} s (ShardingOptions.AskTimeout)";
        if (call.Command is PushCommand { Token.At: { } at })
        {
            return new EngineException(EngineErrorCode.SessionUnavailable,
                $"{waited}, though the token was sent {call.Sends} time(s): its shard is moving, or its node was lost and its shards have not started elsewhere yet. " +
                $"Resend from position {at}: a token applied already is answered DuplicateToken with its output.", call.Command.SessionId)
            { Position = at };
        }

        return new EngineException(EngineErrorCode.EngineStopped, $"{waited}; the operation may or may not have been applied.", call.Command.SessionId);
    }

    private void Resend(Call call, DateTime now)
    {
        call.Sends++;
        call.NextSend = now + _options.ResendAfter;
        _region.Tell(call.Command, Receiver);
    }

    private bool EarlierPending(Call call)
    {
        var at = ((PushCommand)call.Command).Token.At;
        foreach (var other in _calls.Values)
        {
            if (other.Command is PushCommand { Token.At: { } earlier } push && earlier < at && push.SessionId == call.Command.SessionId)
            {
                return true;
            }
        }

        return false;
    }

    private void Finish(long id, Call call, object outcome)
    {
        if (!_calls.TryRemove(id, out _))
        {
            return;
        }

        if (outcome is SessionReply reply)
        {
            call.Completion.TrySetResult(reply);
        }
        else
        {
            call.Completion.TrySetException((Exception)outcome);
        }
    }

    private void FailAll()
    {
        foreach (var (id, call) in _calls)
        {
            Finish(id, call, new EngineException(EngineErrorCode.EngineStopped,
                "this node's actor system terminated before the session's owner answered; the operation may or may not have been applied.", call.Command.SessionId));
        }
    }

    private sealed class Call(SessionCommand command, DateTime deadline, bool resendable)
    {
        public SessionCommand Command { get; } = command;

        public DateTime Created { get; } = DateTime.UtcNow;

        public DateTime Deadline { get; } = deadline;

        public bool Resendable { get; } = resendable;

        public TaskCompletionSource<SessionReply> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public DateTime NextSend { get; set; }

        public int Sends { get; set; } = 1;

        public ErrorReply? Held { get; set; }
    }

    private sealed class Tick
    {
        public static Tick Instance { get; } = new();
    }

    private sealed class ReplyReceiver : ReceiveActor, IWithTimers
    {
        private readonly TimeSpan _sweep;

        public ReplyReceiver(PendingCalls calls, TimeSpan sweep)
        {
            _sweep = sweep;
            Receive<SessionReply>(calls.Answer);
            Receive<Tick>(_ => calls.Sweep());
        }

        public ITimerScheduler Timers { get; set; } = null!;

        protected override void PreStart() => Timers.StartPeriodicTimer("sweep", Tick.Instance, _sweep);
    }
}
