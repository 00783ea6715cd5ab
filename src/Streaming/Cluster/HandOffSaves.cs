using System.Diagnostics;
using Akka.Event;

namespace Streaming.Cluster;

/// <summary>
/// The hand-off save of this node's sessions: a session whose shard moves away is evicted into the store, and when the
/// store fails it stays resident here and is tried again, with back-off, until <see cref="ShardingOptions.HandOffSaveDeadline"/>;
/// only then does it go without its state since its last persisted snapshot, and it is counted, so the node's log and
/// exit code can say how many sessions a leave could not save.
/// </summary>
internal sealed class HandOffSaves(TimeSpan deadline)
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(2);
    private int _unsaved;

    /// <summary>Sessions that left this node without their latest state because the store kept failing.</summary>
    public int Unsaved => Volatile.Read(ref _unsaved);

    /// <summary>Evicts <paramref name="sessionId"/> from <paramref name="engine"/> for a hand-off; true when it is in the store (or was not resident).</summary>
    public async Task<bool> EvictAsync(RecurrentEngine engine, string sessionId, ILoggingAdapter log)
    {
        var elapsed = Stopwatch.StartNew();
        var wait = FirstRetry;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // False means not resident here (never used, or evicted already): its state is in the store, or nowhere.
                await engine.EvictAsync(sessionId).ConfigureAwait(false);
                if (attempt > 1)
                {
                    log.Info("Session {0}: saved for the shard hand-off at attempt {1}, after {2:0.0} s.", sessionId, attempt, elapsed.Elapsed.TotalSeconds);
                }

                return true;
            }
            catch (EngineException e) when (e.Code == EngineErrorCode.EngineStopped)
            {
                // The engine is shutting down: its own shutdown saves the session (and reports a failure to).
                log.Info("Session {0}: not evicted for the hand-off, the engine is stopping ({1}).", sessionId, e.Message);
                return true;
            }
            catch (EngineException e) when (e.Code == EngineErrorCode.StoreFailed && elapsed.Elapsed + wait < deadline)
            {
                log.Warning("Session {0}: the shard hand-off could not save it (attempt {1}: {2}); it stays on this node and is tried again in {3} ms.",
                    sessionId, attempt, e.Message, (long)wait.TotalMilliseconds);
                await Task.Delay(wait).ConfigureAwait(false);
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, LongestRetry.Ticks));
            }
            catch (Exception e)
            {
                // It goes anyway: the stale copy here must never be saved over what the new owner saves.
                engine.Drop(sessionId);
                Interlocked.Increment(ref _unsaved);
                log.Error(e, "Session {0}: the shard hand-off could not save it in {1} attempt(s) over {2:0.0} s (deadline {3:0.#} s); it moves without its state since its last persisted snapshot.",
                    sessionId, attempt, elapsed.Elapsed.TotalSeconds, deadline.TotalSeconds);
                return false;
            }
        }
    }
}
