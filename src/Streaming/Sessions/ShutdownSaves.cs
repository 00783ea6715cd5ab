using Akka.Event;

namespace Streaming.Sessions;

/// <summary>
/// What the store refused during the engine's shutdown, told in a few lines for the whole engine rather than one or more
/// per session: a warning at the first refused save (the shutdown now takes longer: every such session is tried again
/// with back-off), and when the shutdown ends, how many were saved on a later attempt and how many could not be saved by
/// the deadline, with the first failure. The engine's counter of unsaved sessions is kept apart.
/// </summary>
internal sealed class ShutdownSaves(long deadlineMs)
{
    private readonly Lock _gate = new();
    private int _retried;
    private int _lost;
    private string? _firstLost;
    private string? _firstLostWhy;

    /// <summary>A session's save failed at attempt <paramref name="attempt"/> and is tried again.</summary>
    public void Retrying(ILoggingAdapter log, string sessionId, string why, int attempt)
    {
        if (attempt != 1)
        {
            return;
        }

        lock (_gate)
        {
            if (_retried++ > 0)
            {
                return;
            }
        }

        log.Warning("Shutdown: the store refused to save session {0} ({1}); it and every other session whose save fails are tried again with back-off, for up to {2:0.###} s after the shutdown began.",
            sessionId, why, deadlineMs / 1000.0);
    }

    /// <summary>A session's save failed <paramref name="attempts"/> times and the deadline has come: it leaves unsaved.</summary>
    public void Lost(string sessionId, string why, int attempts)
    {
        lock (_gate)
        {
            if (_lost++ == 0)
            {
                _firstLost = sessionId;
                _firstLostWhy = $"{why} (after {attempts} attempt(s))";
            }

            // A session given up at its first attempt (no time left, or no retry at all) was not counted as retried.
            _retried += attempts == 1 ? 1 : 0;
        }
    }

    /// <summary>The shutdown has ended: what became of the sessions whose save the store refused.</summary>
    public void Report(ILoggingAdapter log)
    {
        int retried, lost;
        string? first, why;
        lock (_gate)
        {
            (retried, lost, first, why) = (_retried, _lost, _firstLost, _firstLostWhy);
        }

        if (lost > 0)
        {
            log.Error("Shutdown: {0} session(s) could not be saved into the store within {1:0.###} s; the first: session {2}: {3}. They resume from their last persisted snapshot. {4} other session(s) whose save had failed were saved on a later attempt.",
                lost, deadlineMs / 1000.0, first, why, retried - lost);
        }
        else if (retried > 0)
        {
            log.Warning("Shutdown: {0} session(s) whose save the store had refused were saved on a later attempt; none was lost.", retried);
        }
    }
}
