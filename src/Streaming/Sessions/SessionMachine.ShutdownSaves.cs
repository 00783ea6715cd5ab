using static Streaming.Sessions.SessionEffect;

namespace Streaming.Sessions;

/// <summary>
/// The save a session makes when its engine shuts down, when the store refuses it: the session stays and is tried again
/// (a fresh snapshot, saved again) with back-off, 100 ms doubling to 2 s, until <see cref="SessionRules.ShutdownSaveMs"/>
/// after the shutdown began; only then does it leave unsaved, counted, so the engine's statistics, its log and
/// <c>serve</c>'s exit code say how many sessions lost their state since their last persisted snapshot.
/// </summary>
internal static partial class SessionMachine
{
    private const long FirstShutdownRetryMs = 100;
    private const long LongestShutdownRetryMs = 2_000;

    // The deadline counts from the first request: the registry tells every session at once, when the shutdown begins.
    private static SessionState OnShutdownRequested(SessionRules rules, SessionState state, long now) =>
        StopGenerating(state.ShutdownRequested ? state : state with { ShutdownRequested = true, ShutdownSaveUntil = now + rules.ShutdownSaveMs }, GenerationStop.Shutdown);

    private static SessionState OnShutdownSaveFailed(string sessionId, SessionState state, string why, long now, ref EffectList effects)
    {
        var attempts = state.ShutdownSaveAttempts + 1;
        var wait = Math.Min(FirstShutdownRetryMs << Math.Min(state.ShutdownSaveAttempts, 8), LongestShutdownRetryMs);
        if (!state.DropRequested && now + wait <= state.ShutdownSaveUntil)
        {
            // StoreBusy while it waits: nothing else starts a store call, and it does not leave.
            effects.Add(new RetrySaveAfter(wait, why, attempts));
            return state with { StoreBusy = true, ShutdownSaveAttempts = attempts };
        }

        effects.Add(Count.Of(SessionCounter.ShutdownSaveFailed));
        effects.Add(new ShutdownSaveLost(why, attempts));
        return Leave(state, SessionErrors.Stopped(sessionId, "it is shutting down"), ref effects);
    }

    // The back-off elapsed: a fresh snapshot goes into the pipeline in order (nothing was applied since), and is saved when back.
    private static SessionState OnSaveRetryDue(SessionState state, ref EffectList effects)
    {
        if (state is not { Phase: SessionPhase.Leaving, Leaving: LeaveReason.Shutdown, StoreBusy: true })
        {
            return state;
        }

        state = state with { StoreBusy = false };
        if (state.DropRequested)
        {
            // It moved to another owner meanwhile: this copy must not be saved; from Open it leaves unsaved (Settle).
            return state with { Phase = SessionPhase.Open, Leaving = LeaveReason.None };
        }

        effects.Add(SendSnapshot);
        return state with { SnapshotForStore = true, InFlight = state.InFlight + 1 };
    }
}
