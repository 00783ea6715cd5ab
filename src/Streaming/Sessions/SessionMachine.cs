using Streaming.Persistence;
using static Streaming.Sessions.SessionEffect;

namespace Streaming.Sessions;

/// <summary>
/// A session's life on one engine, as one pure decider: <see cref="Decide"/> takes the session's state and one
/// event and returns the new state and the effects to perform. No Akka, no locks, no I/O, no clock of its own: the
/// shell (<see cref="SessionEntry"/>) feeds it events one at a time, with the time, and performs what it returns.
/// <para>
/// The rules that keep the store right: at most one store call per session is in flight, and none starts while
/// another runs (a close's delete waits for a checkpoint's save, so no save can land after it); a close is answered
/// only once the stored copy is gone; a phase that saves (leaving, expiring) starts only when nothing is in flight.
/// docs/architecture.md shows the phases and events as a table.
/// </para>
/// </summary>
internal static partial class SessionMachine
{
    /// <summary>A new entry: it loads what the store holds of the session (or, as a probe, checks a passivated session's expiry).</summary>
    /// <param name="now">The time; a probe's entry starts from the passivated session's last use instead.</param>
    /// <param name="wasPassivated">The session had passivated on this engine (it counts as open already).</param>
    /// <param name="probe">Only check whether the passivated session expired; leave again if it did not and nothing came for it.</param>
    public static Decision Start(long now, bool wasPassivated, bool probe)
    {
        var effects = default(EffectList);
        if (wasPassivated)
        {
            effects.Add(Count.Of(SessionCounter.Resumed));
        }

        effects.Add(Load);
        var state = new SessionState { Phase = SessionPhase.Loading, StoreBusy = true, LastUsed = now, WasPassivated = wasPassivated, Probe = probe };
        return new Decision(state, effects);
    }

    /// <summary>Whether a waiting operation may leave the queue now: the phase takes operations, and there is room in flight.</summary>
    public static bool Accepts(SessionRules rules, in SessionState state) => state.TakesOperations && state.InFlight < rules.MaxInFlight && !state.Generating;

    /// <summary>What <paramref name="happened"/> does to the session in <paramref name="state"/>.</summary>
    /// <param name="rules">The engine's settings.</param>
    /// <param name="sessionId">The session, for the refusals' messages.</param>
    /// <param name="state">The session's state before the event.</param>
    /// <param name="happened">The event.</param>
    /// <param name="now">The time of the event, on the engine's clock.</param>
    public static Decision Decide(SessionRules rules, string sessionId, SessionState state, SessionEvent happened, long now)
    {
        var effects = default(EffectList);
        if (state.Phase == SessionPhase.Gone)
        {
            return new Decision(AfterLeaving(state, happened, ref effects), effects);
        }

        state = happened switch
        {
            SessionCommand command => Submit(rules, sessionId, state, command, now, ref effects),
            SessionEvent.Dequeued dequeued => Start(sessionId, state with { Waiting = state.Waiting - 1 }, dequeued.Command, ref effects),
            SessionEvent.ElementDone done => OnElementDone(state, done.Role, now, ref effects),
            SessionEvent.GenerationStepDone step => OnGenerationStepDone(sessionId, state, step.Continues, now, ref effects),
            SessionEvent.Loaded loaded => OnLoaded(rules, state, loaded.Stored, now, ref effects),
            SessionEvent.LoadFailed failed => OnLoadFailed(state, failed.Why, ref effects),
            SessionEvent.Saved => OnSaved(sessionId, state, ref effects),
            SessionEvent.SaveFailed failed => OnSaveFailed(sessionId, state, failed.Why, ref effects),
            SessionEvent.Deleted => OnDeleted(state, error: null, ref effects),
            SessionEvent.DeleteFailed failed => OnDeleted(state, SessionErrors.CloseNotDeleted(sessionId, failed.Why), ref effects),
            SessionEvent.Swept => OnSwept(rules, state, now, ref effects),
            SessionEvent.CheckpointDue => OnCheckpointDue(state, ref effects),
            SessionEvent.EvictRequested => OnEvictRequested(state, ref effects),
            SessionEvent.ShutdownRequested => StopGenerating(state with { ShutdownRequested = true }, GenerationStop.Shutdown),
            SessionEvent.PipelineFailed failed => Fail(sessionId, state, failed.Why, ref effects),
            _ => throw new ArgumentOutOfRangeException(nameof(happened), happened, "not a session event"),
        };

        return new Decision(Settle(sessionId, state, ref effects), effects);
    }

    // Gone: only bookkeeping is left (its last elements coming back); a caller that still held the entry looks again.
    private static SessionState AfterLeaving(SessionState state, SessionEvent happened, ref EffectList effects)
    {
        switch (happened)
        {
            case SessionEvent.ElementDone or SessionEvent.GenerationStepDone:
                return state with { InFlight = state.InFlight - 1 };
            case SessionCommand:
                effects.Add(Retry);
                break;
            case SessionEvent.EvictRequested:
                effects.Add(EvictionDone.No);
                break;
        }

        return state;
    }

    private static SessionState OnElementDone(SessionState state, ElementRole role, long now, ref EffectList effects)
    {
        state = state with { InFlight = state.InFlight - 1 };
        switch (role)
        {
            case ElementRole.Operation:
                effects.Add(Reply);
                return state with { LastUsed = now };
            case ElementRole.Close:
                // Answered in Closing once the stored copy is gone (Settle).
                return state with { LastUsed = now };
            case ElementRole.StoreSnapshot when state.Phase is SessionPhase.Open or SessionPhase.Leaving:
                System.Diagnostics.Debug.Assert(!state.StoreBusy, "a snapshot for the store is only sent while no store call runs");
                effects.Add(new SaveSnapshot(state.LastUsed));
                return state with { SnapshotForStore = false, StoreBusy = true, Stored = true };
            case ElementRole.StoreSnapshot:
                // A checkpoint overtaken by a close: the closed session's state must not be saved.
                return state with { SnapshotForStore = false };
            default:
                return state;
        }
    }

    private static SessionState OnLoaded(SessionRules rules, SessionState state, StoredSession? stored, long now, ref EffectList effects)
    {
        state = state with { StoreBusy = false };
        if (stored is null || stored.IsExpired || rules.IsExpired(SessionClock.ToMilliseconds(stored.LastUsed), now))
        {
            if (state.WasPassivated)
            {
                effects.Add(Count.Of(SessionCounter.Closed));
            }

            if (stored is null)
            {
                return state with { Phase = SessionPhase.Closed, Stored = false, Why = state.WasPassivated ? "its passivated snapshot is missing from the store" : null };
            }

            var lastUsed = SessionClock.ToMilliseconds(stored.LastUsed);
            if (stored.IsExpired)
            {
                return state with { Phase = SessionPhase.Expired, Stored = true, LastUsed = lastUsed, Why = SessionErrors.IdleSince(lastUsed) };
            }

            // Found past its time-to-live (no sweep expired it: its engine stopped, or this is the sweep's probe).
            effects.Add(new SaveTombstone(lastUsed));
            return state with { Phase = SessionPhase.Expiring, Stored = true, StoreBusy = true, LastUsed = lastUsed };
        }

        var snapshot = stored.Snapshot!;
        if (state.Probe && state.Waiting == 0)
        {
            // Not expired by what the store says (its last use is the one that counts): it stays passivated, watched from there.
            return Passivated(state, SessionClock.ToMilliseconds(stored.LastUsed), ref effects);
        }

        // Operations that waited follow the restore in the pipeline.
        effects.Add(new SendRestore(snapshot));
        if (!state.WasPassivated)
        {
            effects.Add(Count.Of(SessionCounter.Opened));
        }

        return state with
        {
            Phase = SessionPhase.Open,
            Position = snapshot.Position,
            InFlight = state.InFlight + 1,
            Stored = true,
            Changed = false,
            Resumed = true,
            HasSlots = true,
            Why = null,
        };
    }

    private static SessionState OnLoadFailed(SessionState state, string why, ref EffectList effects)
    {
        state = state with { StoreBusy = false };
        if (state.Probe && state.Waiting == 0)
        {
            effects.Add(new Warn($"checking whether the passivated session expired failed ({why}); it is checked again at a later sweep."));
            return Passivated(state, state.LastUsed, ref effects);
        }

        if (state.WasPassivated)
        {
            effects.Add(Count.Of(SessionCounter.Closed));
        }

        effects.Add(new Warn($"loading the session from the store failed ({why})."));
        // The store may hold it: a later close of a reopened session deletes it.
        return state with { Phase = SessionPhase.Closed, Stored = true, Why = "its snapshot could not be loaded from the store: " + why };
    }

    private static SessionState Passivated(SessionState state, long lastUsed, ref EffectList effects)
    {
        effects.Add(new MarkPassivated(lastUsed));
        effects.Add(Count.Of(SessionCounter.Passivated));
        return Leave(state, refusal: null, ref effects);
    }

    private static SessionState OnSaved(string sessionId, SessionState state, ref EffectList effects)
    {
        state = state with { StoreBusy = false, Stored = true };
        switch (state.Phase)
        {
            case SessionPhase.Open:
                effects.Add(Count.Of(SessionCounter.CheckpointSaved));
                return state;
            case SessionPhase.Leaving:
                return FinishLeaving(sessionId, state, ref effects);
            case SessionPhase.Expiring:
                if (state.HasSlots)
                {
                    // It was open here (on a load it counted as closed already).
                    effects.Add(Count.Of(SessionCounter.Closed));
                    state = FreeSlots(state, ref effects);
                }

                effects.Add(Count.Of(SessionCounter.Expired));
                return state with { Phase = SessionPhase.Expired, Why = SessionErrors.IdleSince(state.LastUsed) };
            default:
                // Closing: a checkpoint's save landed; Settle deletes it now.
                return state;
        }
    }

    private static SessionState OnSaveFailed(string sessionId, SessionState state, string why, ref EffectList effects)
    {
        // A failed save may still have reached the store: a close must delete.
        state = state with { StoreBusy = false, Stored = true };
        switch (state.Phase)
        {
            case SessionPhase.Open:
                effects.Add(new Warn($"the checkpoint could not be saved ({why}); the next one tries again."));
                return state with { Changed = true };
            case SessionPhase.Leaving when state.Leaving == LeaveReason.Shutdown:
                effects.Add(new Warn($"the snapshot taken at shutdown could not be saved ({why}); the session's state since its last save is lost."));
                return Leave(state, SessionErrors.Stopped(sessionId, "it is shutting down"), ref effects);
            case SessionPhase.Leaving:
                effects.Add(new Warn($"{state.Leaving} could not save the snapshot ({why}); the session stays resident."));
                if (state.Leaving == LeaveReason.Evict)
                {
                    effects.Add(new EvictionFailed(SessionErrors.EvictionNotSaved(sessionId, why)));
                    state = state with { EvictRequested = false };
                }

                return state with { Phase = SessionPhase.Open, Leaving = LeaveReason.None, Changed = true };
            case SessionPhase.Expiring when state.HasSlots:
                effects.Add(new Warn($"expiring the session could not save its tombstone ({why}); it stays resident."));
                return state with { Phase = SessionPhase.Open };
            case SessionPhase.Expiring:
                effects.Add(new Warn($"saving the tombstone of an expired session failed ({why})."));
                return state with { Phase = SessionPhase.Expired, Why = SessionErrors.IdleSince(state.LastUsed) };
            default:
                return state;
        }
    }

    private static SessionState OnDeleted(SessionState state, EngineException? error, ref EffectList effects)
    {
        effects.Add(error is null ? AnswerClose.Done : new AnswerClose(error));
        return state with { Phase = SessionPhase.Closed, StoreBusy = false, Stored = error is not null };
    }

    private static SessionState OnSwept(SessionRules rules, SessionState state, long now, ref EffectList effects)
    {
        if (state.Phase != SessionPhase.Open || !state.Idle || state.StoreBusy)
        {
            return state;
        }

        if (rules.IsExpired(state.LastUsed, now))
        {
            effects.Add(new SaveTombstone(state.LastUsed));
            return state with { Phase = SessionPhase.Expiring, StoreBusy = true, Stored = true };
        }

        return rules.IsPassivationDue(state.LastUsed, now) ? BeginLeaving(state, LeaveReason.Passivate, ref effects) : state;
    }

    private static SessionState OnCheckpointDue(SessionState state, ref EffectList effects)
    {
        if (state.Phase != SessionPhase.Open || !state.Changed || state.StoreBusy || state.SnapshotForStore)
        {
            return state;
        }

        effects.Add(SendSnapshot);
        return state with { Changed = false, SnapshotForStore = true, InFlight = state.InFlight + 1 };
    }

    private static SessionState OnEvictRequested(SessionState state, ref EffectList effects)
    {
        if (state.Phase is SessionPhase.Closed or SessionPhase.Expired)
        {
            effects.Add(EvictionDone.No);
            return state;
        }

        return StopGenerating(state with { EvictRequested = true }, GenerationStop.Evict);
    }

    private static SessionState Fail(string sessionId, SessionState state, string why, ref EffectList effects)
    {
        if (state.Phase == SessionPhase.Closing && state.InFlight == 0)
        {
            // The close came back from the pipeline (it was applied); only the delete is unfinished: "not applied" would be untrue.
            effects.Add(new AnswerClose(SessionErrors.CloseInterrupted(sessionId, why)));
        }

        effects.Add(new FailAll(SessionErrors.Stopped(sessionId, why)));
        return state with { Phase = SessionPhase.Gone, Waiting = 0, StoreBusy = false, EvictRequested = false };
    }

    // After every event: what the new state makes due (a close's delete and answer, a save once idle, leaving).
    private static SessionState Settle(string sessionId, SessionState state, ref EffectList effects)
    {
        if (state.Phase == SessionPhase.Closing && state.InFlight == 0 && !state.StoreBusy)
        {
            if (state.Stored)
            {
                effects.Add(Delete);
                return state with { StoreBusy = true };
            }

            effects.Add(AnswerClose.Done);
            state = state with { Phase = SessionPhase.Closed };
        }

        if (!state.Idle || state.StoreBusy)
        {
            return state;
        }

        switch (state.Phase)
        {
            case SessionPhase.Open when state.ShutdownRequested:
                return BeginLeaving(state, LeaveReason.Shutdown, ref effects);
            case SessionPhase.Open when state.EvictRequested:
                return BeginLeaving(state, LeaveReason.Evict, ref effects);
            case SessionPhase.Closed or SessionPhase.Expired:
                // Nothing of a session that is not open stays resident: its next operation loads it again.
                return Leave(state, state.ShutdownRequested ? SessionErrors.Stopped(sessionId, "it is shutting down") : null, ref effects);
            default:
                return state;
        }
    }
}
