namespace Streaming.Sessions;

/// <summary>Engine-wide counters, moved by the sessions' decisions and their elements, read by the engine's statistics.</summary>
internal sealed class EngineCounters
{
    private int _sessionsOpen;
    private int _sessionsPassivated;
    private long _tokens;
    private long _expired;
    private long _checkpoints;
    private long _checkpointsFailed;
    private long _storeFailures;
    private int _shutdownSavesFailed;
    private long _inPipeline;
    private long _peakInPipeline;

    /// <summary>Moves the counter a session's decision named.</summary>
    public void Count(SessionCounter counter)
    {
        switch (counter)
        {
            case SessionCounter.Opened:
                SessionOpened();
                break;
            case SessionCounter.Closed:
                SessionClosed();
                break;
            case SessionCounter.Passivated:
                SessionPassivated();
                break;
            case SessionCounter.Resumed:
                SessionResumed();
                break;
            case SessionCounter.Expired:
                SessionExpired();
                break;
            case SessionCounter.CheckpointSaved:
                CheckpointSaved();
                break;
            case SessionCounter.CheckpointFailed:
                Interlocked.Increment(ref _checkpointsFailed);
                break;
            case SessionCounter.StoreCallFailed:
                Interlocked.Increment(ref _storeFailures);
                break;
            case SessionCounter.ShutdownSaveFailed:
                Interlocked.Increment(ref _shutdownSavesFailed);
                break;
        }
    }

    public void SessionOpened() => Interlocked.Increment(ref _sessionsOpen);

    public void SessionClosed() => Interlocked.Decrement(ref _sessionsOpen);

    public void SessionPassivated() => Interlocked.Increment(ref _sessionsPassivated);

    public void SessionResumed() => Interlocked.Decrement(ref _sessionsPassivated);

    public void SessionExpired() => Interlocked.Increment(ref _expired);

    public void CheckpointSaved() => Interlocked.Increment(ref _checkpoints);

    /// <summary>Checkpoints saved so far.</summary>
    public long CheckpointsSaved => Interlocked.Read(ref _checkpoints);

    public void TokensProcessed(long count) => Interlocked.Add(ref _tokens, count);

    public void EnteredPipeline()
    {
        var now = Interlocked.Increment(ref _inPipeline);
        var peak = Volatile.Read(ref _peakInPipeline);
        while (now > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peakInPipeline, now, peak);
            if (seen == peak)
            {
                break;
            }

            peak = seen;
        }
    }

    public void LeftPipeline() => Interlocked.Decrement(ref _inPipeline);

    public EngineStatistics Read(IReadOnlyList<StageStatistics> stages) => new(
        Volatile.Read(ref _sessionsOpen),
        Volatile.Read(ref _sessionsPassivated),
        Interlocked.Read(ref _tokens),
        Interlocked.Read(ref _inPipeline),
        Interlocked.Read(ref _peakInPipeline),
        stages)
    {
        SessionsExpired = Interlocked.Read(ref _expired),
        CheckpointsSaved = Interlocked.Read(ref _checkpoints),
        CheckpointsFailed = Interlocked.Read(ref _checkpointsFailed),
        StoreFailures = Interlocked.Read(ref _storeFailures),
        ShutdownSavesFailed = Volatile.Read(ref _shutdownSavesFailed),
    };
}
