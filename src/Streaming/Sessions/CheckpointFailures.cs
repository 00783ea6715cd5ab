using Akka.Event;

namespace Streaming.Sessions;

/// <summary>
/// Failed checkpoints, told once per checkpoint period for the whole engine instead of once per session: during a store
/// outage every changed session fails its checkpoint every period, and one line each would flood the log (10,000 lines a
/// period for 10,000 sessions). Sessions report their failures as they happen; at the end of each period the registry
/// asks for the period's line: a warning with how many sessions failed, how many saved and the first failure, while
/// checkpoints fail; one line when they are saved again; nothing otherwise. The engine's counters are kept apart.
/// </summary>
internal sealed class CheckpointFailures
{
    private readonly Lock _gate = new();
    private int _failed;
    private string? _firstSession;
    private string? _firstWhy;
    private long _savedAtLastReport;
    private long _failedSinceRecovery;
    private long _failingSince;

    /// <summary>A session's checkpoint could not be saved.</summary>
    public void Failed(string sessionId, string why)
    {
        lock (_gate)
        {
            if (_failed++ == 0)
            {
                _firstSession = sessionId;
                _firstWhy = why;
            }
        }
    }

    /// <summary>
    /// Ends a period of <paramref name="period"/> at <paramref name="now"/> (engine milliseconds) and logs what it saw.
    /// <paramref name="savedTotal"/> is the engine's count of checkpoints saved so far.
    /// </summary>
    public void Report(ILoggingAdapter log, long savedTotal, TimeSpan period, long now)
    {
        int failed;
        string? session;
        string? why;
        long saved;
        lock (_gate)
        {
            (failed, session, why) = (_failed, _firstSession, _firstWhy);
            (_failed, _firstSession, _firstWhy) = (0, null, null);
            saved = savedTotal - _savedAtLastReport;
            _savedAtLastReport = savedTotal;
            if (failed > 0)
            {
                if (_failedSinceRecovery == 0)
                {
                    _failingSince = now;
                }

                _failedSinceRecovery += failed;
            }
            else if (saved > 0 && _failedSinceRecovery > 0)
            {
                var total = _failedSinceRecovery;
                _failedSinceRecovery = 0;
                // A warning too, so that it shows wherever the failures showed (serve logs warnings and up).
                log.Warning("Checkpoints are saved again: {0} saved in the last {1:0.###} s and none failed; {2} checkpoint(s) had failed over the {3:0.#} s before.",
                    saved, period.TotalSeconds, total, (now - _failingSince) / 1000.0);
                return;
            }
        }

        if (failed > 0)
        {
            log.Warning("Checkpoints failed for {0} session(s) in the last {1:0.###} s ({2} saved); the first: session {3}: {4}. Each is tried again at the next checkpoint; until one is saved, a crash loses what it would have saved.",
                failed, period.TotalSeconds, saved, session, why);
        }
    }
}
