using Akka.Actor;

namespace Streaming.Sessions;

/// <summary>
/// The engine's clock for its sessions' lifecycles: every half <see cref="SessionRules.PassivateAfterMs"/> (or
/// expiry time) it sweeps the entries, which passivate or expire when idle long enough, and probes the passivated
/// sessions past their time-to-live; once every checkpoint period it tells each entry to save if it changed (the
/// entries spread over the period's <see cref="CheckpointSlices"/>), and logs the period's failed checkpoints in one line
/// for all sessions (<see cref="CheckpointFailures"/>). It also runs
/// the shutdown (entries finish, save and leave; then the pipeline's input completes) and tells every entry when the
/// pipeline failed. It decides nothing about a session: each entry's machine does.
/// </summary>
internal sealed class SessionRegistry : UntypedActor, IWithTimers
{
    private readonly SessionDirectory _directory;
    private readonly TimeSpan? _checkpointEvery;
    private long _checkpointTicks;
    private bool _stopping;
    private bool _inputCompleted;
    private bool _failed;
    private IActorRef? _shutdownRequester;

    public SessionRegistry(SessionDirectory directory, TimeSpan? checkpointEvery)
    {
        _directory = directory;
        _checkpointEvery = checkpointEvery;
    }

    /// <summary>
    /// The checkpoint period's slices: each session is checkpointed once a period, at the tick of its slice (from its id),
    /// so that a period's snapshots and saves do not all start at once. All at once, a checkpoint of 1,024 sessions at W
    /// stalled tokens behind it: p99 over TCP rose from about 25 ms to 130-160 ms (docs/benchmarks.md, tcp).
    /// </summary>
    public const int CheckpointSlices = 16;

    public ITimerScheduler Timers { get; set; } = null!;

    private SessionContext SessionContext => _directory.Context;

    /// <summary>The slice of the checkpoint period of the session <paramref name="sessionId"/>: the same for the life of the process.</summary>
    public static int SliceOf(string sessionId) => (int)((uint)StringComparer.Ordinal.GetHashCode(sessionId) % CheckpointSlices);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    protected override void PreStart()
    {
        var rules = SessionContext.Rules;
        var sweepMs = (rules.PassivateAfterMs, rules.ExpireAfterMs) switch
        {
            ({ } passivate, { } expire) => Math.Min(passivate, expire) / 2,
            ({ } passivate, null) => passivate / 2,
            (null, { } expire) => expire / 2,
            _ => (long?)null,
        };
        if (sweepMs is { } every)
        {
            // Sessions passivate (expire) between PassivateAfter (ExpireAfter) and 1.5 times it after their last use.
            Timers.StartPeriodicTimer(nameof(Sweep), Sweep.Instance, TimeSpan.FromMilliseconds(Math.Max(1, every)));
        }

        if (_checkpointEvery is { } checkpointEvery)
        {
            // A tick every slice of the period; each session is checkpointed at the tick of its slice, once a period.
            Timers.StartPeriodicTimer(nameof(Checkpoint), Checkpoint.Instance, Max(TimeSpan.FromMilliseconds(1), checkpointEvery / CheckpointSlices));
        }
    }

    protected override void PostStop() =>
        // The actor system is going away: whatever waits in a session would never be answered.
        FailAll("its actor system stopped");

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Sweep when !_stopping && !_failed:
                foreach (var entry in _directory.Entries)
                {
                    entry.Sweep();
                }

                foreach (var id in _directory.PassivatedAndExpired(SessionContext.Clock.Now))
                {
                    _directory.Probe(id);
                }

                break;
            case Checkpoint when !_stopping && !_failed:
                var slice = _checkpointTicks++ % CheckpointSlices;
                if (slice == 0)
                {
                    ReportCheckpoints();
                }

                foreach (var entry in _directory.Entries)
                {
                    if (entry.CheckpointSlice == slice)
                    {
                        entry.Checkpoint();
                    }
                }

                break;
            case Sweep or Checkpoint:
                break;
            case Shutdown:
                OnShutdown();
                break;
            case EntriesLeft:
                CompleteShutdown();
                break;
            case PipelineStopped stopped when !_inputCompleted:
                // The pipeline ended before its input did: a stage failed.
                FailAll("its pipeline failed: " + (stopped.Error?.Message ?? "it completed before its input did"));
                break;
            case PipelineStopped:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void OnShutdown()
    {
        _shutdownRequester = Sender;
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        _directory.Refuse("it is shutting down");
        foreach (var entry in _directory.Entries)
        {
            entry.Shutdown();
        }

        _directory.Emptied.PipeTo(Self, success: () => EntriesLeft.Instance);
    }

    // The checkpoints of the period that just ended: saves have come back by now, except those still in the store's hands.
    private void ReportCheckpoints()
    {
        if (_checkpointEvery is { } period)
        {
            SessionContext.CheckpointFailures.Report(SessionContext.Log, SessionContext.Counters.CheckpointsSaved, period, SessionContext.Clock.Now);
        }
    }

    private void CompleteShutdown()
    {
        // The last period's failures are told too, and what became of the saves the store refused during the shutdown.
        ReportCheckpoints();
        SessionContext.ShutdownSaves.Report(SessionContext.Log);
        if (!_inputCompleted)
        {
            _inputCompleted = true;
            SessionContext.Pipeline.TryComplete();
        }

        _shutdownRequester?.Tell(ShutdownComplete.Instance);
        _shutdownRequester = null;
    }

    private void FailAll(string why)
    {
        _failed = true;
        _directory.Refuse(why);
        foreach (var entry in _directory.Entries)
        {
            entry.PipelineFailed(why);
        }
    }
}
