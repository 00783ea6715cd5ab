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
    /// <param name="passivatedLastUse">The session had passivated on this engine (it counts as open already), with this last use; null if not.</param>
    /// <param name="probe">Only check whether the passivated session expired; leave again if it did not and nothing came for it.</param>
    public static Decision Start(long now, long? passivatedLastUse, bool probe)
    {
        var effects = default(EffectList);
        if (passivatedLastUse is not null)
        {
            effects.Add(Count.Of(SessionCounter.Resumed));
        }

        effects.Add(Load);
        var state = new SessionState
        {
            Phase = SessionPhase.Loading,
            StoreBusy = true,
            LastUsed = now,
            WasPassivated = passivatedLastUse is not null,
            PassivatedLastUse = passivatedLastUse ?? 0,
            Probe = probe,
        };
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

        if (happened is SessionEvent.LoadFailed or SessionEvent.SaveFailed or SessionEvent.DeleteFailed)
        {
            effects.Add(Count.Of(SessionCounter.StoreCallFailed));
        }

        state = happened switch
        {
            SessionCommand command => Submit(rules, sessionId, state, command, now, ref effects),
            SessionEvent.Dequeued dequeued => Start(rules, sessionId, state with { Waiting = state.Waiting - 1 }, dequeued.Command, ref effects),
            SessionEvent.ElementDone done => OnElementDone(rules, state, done, now, ref effects),
            SessionEvent.GenerationStepDone step => OnGenerationStepDone(sessionId, state, step.Continues, now, ref effects),
            SessionEvent.Loaded loaded => OnLoaded(rules, state, loaded.Stored, now, ref effects),
            SessionEvent.LoadFailed failed => OnLoadFailed(state, failed.Why, ref effects),
            SessionEvent.Saved => OnSaved(sessionId, state, ref effects),
            SessionEvent.SaveFailed failed => OnSaveFailed(sessionId, state, failed.Why, now, ref effects),
            SessionEvent.SaveRetryDue => OnSaveRetryDue(state, ref effects),
            SessionEvent.Deleted => OnDeleted(state, error: null, ref effects),
            SessionEvent.DeleteFailed failed => OnDeleted(state, SessionErrors.CloseNotDeleted(sessionId, failed.Why), ref effects),
            SessionEvent.Swept => OnSwept(rules, state, now, ref effects),
            SessionEvent.CheckpointDue => OnCheckpointDue(state, ref effects),
            SessionEvent.EvictRequested => OnEvictRequested(state, ref effects),
            SessionEvent.ShutdownRequested => OnShutdownRequested(rules, state, now),
            SessionEvent.DropRequested => StopGenerating(state with { DropRequested = true }, GenerationStop.Evict),
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

    private static SessionState OnElementDone(SessionRules rules, SessionState state, SessionEvent.ElementDone done, long now, ref EffectList effects)
    {
        state = state with { InFlight = state.InFlight - 1 };
        switch (done.Role)
        {
            case ElementRole.Operation:
                effects.Add(Reply);
                return KeepOutputsOf(rules, state with { LastUsed = now }, done, ref effects);
            case ElementRole.Close:
                // Answered in Closing once the stored copy is gone (Settle).
                return state with { LastUsed = now };
            case ElementRole.StoreSnapshot when state.Phase is SessionPhase.Open or SessionPhase.Leaving && !state.DropRequested:
                System.Diagnostics.Debug.Assert(!state.StoreBusy, "a snapshot for the store is only sent while no store call runs");
                effects.Add(new SaveSnapshot(state.LastUsed));
                return state with { SnapshotForStore = false, StoreBusy = true, Stored = true };
            case ElementRole.StoreSnapshot when state.Phase == SessionPhase.Leaving:
                // Dropped while leaving: nothing is saved; back to Open, from where it leaves unsaved once idle (Settle).
                return state with { SnapshotForStore = false, Phase = SessionPhase.Open, Leaving = LeaveReason.None };
            case ElementRole.StoreSnapshot:
                // A checkpoint overtaken by a close (or a drop): the session's state must not be saved.
                return state with { SnapshotForStore = false };
            default:
                return state;
        }
    }

    // Outputs are kept in the pipeline's order, as their elements come back: a rebase (open, reset, restore) starts
    // afresh at its position, and tokens and replays add theirs, the oldest forgotten beyond the rules' number.
    private static SessionState KeepOutputsOf(SessionRules rules, SessionState state, SessionEvent.ElementDone done, ref EffectList effects)
    {
        switch (done.Command)
        {
            case SessionCommand.Open or SessionCommand.Reset or SessionCommand.Restore:
                if (rules.KeptOutputs > 0)
                {
                    effects.Add(new ForgetOutputs(done.Position));
                }

                return state with { Rebasing = state.Rebasing - 1, Kept = 0, KeptThrough = done.Position };
            case SessionCommand.Push or SessionCommand.Replay when rules.KeptOutputs > 0:
                var steps = done.Command is SessionCommand.Replay replay ? replay.Steps : 1;
                var first = done.Position - steps;
                var kept = state.Kept;
                if (first != state.KeptThrough)
                {
                    // Not after the outputs kept (they belong to a stream the session left): start afresh here.
                    effects.Add(new ForgetOutputs(first));
                    kept = 0;
                }

                kept = (int)Math.Min(kept + (long)steps, rules.KeptOutputs);
                effects.Add(new KeepOutputs(done.Position - kept));
                return state with { Kept = kept, KeptThrough = done.Position };
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
        var outputs = stored.Outputs;
        var kept = outputs is not null && outputs.End == snapshot.Position ? Math.Min(outputs.Count, rules.KeptOutputs) : 0;
        if (kept > 0)
        {
            effects.Add(new ResumeOutputs(outputs!, kept));
        }

        if (!state.WasPassivated)
        {
            effects.Add(Count.Of(SessionCounter.Opened));
        }

        return state with
        {
            Phase = SessionPhase.Open,
            Position = snapshot.Position,
            KeptThrough = snapshot.Position,
            Kept = kept,
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

        // The store may hold it: "unknown" would be untrue and a fresh session would be a reset. Its operations are
        // refused StoreFailed (a restore applies), and once idle it leaves, so the next operation asks the store again.
        effects.Add(new Warn($"loading the session from the store failed ({why}); its operations are refused StoreFailed until the store answers."));
        return state with { Phase = SessionPhase.LoadFailed, Stored = true, Why = why };
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

    private static SessionState OnSaveFailed(string sessionId, SessionState state, string why, long now, ref EffectList effects)
    {
        // A failed save may still have reached the store: a close must delete.
        state = state with { StoreBusy = false, Stored = true };
        switch (state.Phase)
        {
            case SessionPhase.Open:
                effects.Add(Count.Of(SessionCounter.CheckpointFailed));
                effects.Add(new CheckpointFailed(why));
                return state with { Changed = true };
            case SessionPhase.Leaving when state.Leaving == LeaveReason.Shutdown:
                return OnShutdownSaveFailed(sessionId, state, why, now, ref effects);
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
        if (state.Phase != SessionPhase.Open || !state.Idle || state.StoreBusy || state.DropRequested)
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
        if (state.Phase != SessionPhase.Open || !state.Changed || state.StoreBusy || state.SnapshotForStore || state.DropRequested)
        {
            return state;
        }

        effects.Add(SendSnapshot);
        return state with { Changed = false, SnapshotForStore = true, InFlight = state.InFlight + 1 };
    }

    private static SessionState OnEvictRequested(SessionState state, ref EffectList effects)
    {
        if (state.Phase is SessionPhase.Closed or SessionPhase.Expired or SessionPhase.LoadFailed)
        {
            // This answers every eviction asked for, an earlier one still pending included: none is answered twice.
            effects.Add(EvictionDone.No);
            return state with { EvictRequested = false };
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
            case SessionPhase.Open when state.DropRequested:
                // Its new owner resumes it from the store: saving this copy now could overwrite what that owner saves.
                effects.Add(Count.Of(SessionCounter.Closed));
                return Leave(FreeSlots(state, ref effects), state.ShutdownRequested ? SessionErrors.Stopped(sessionId, "it is shutting down") : null, ref effects);
            case SessionPhase.Open when state.ShutdownRequested:
                return BeginLeaving(state, LeaveReason.Shutdown, ref effects);
            case SessionPhase.Open when state.EvictRequested:
                return BeginLeaving(state, LeaveReason.Evict, ref effects);
            case SessionPhase.LoadFailed when state.WasPassivated:
                // Still passivated (its load never happened): watched for expiry from the last use saved with it.
                effects.Add(new MarkPassivated(state.PassivatedLastUse));
                effects.Add(Count.Of(SessionCounter.Passivated));
                return Leave(state, state.ShutdownRequested ? SessionErrors.Stopped(sessionId, "it is shutting down") : null, ref effects);
            case SessionPhase.Closed or SessionPhase.Expired or SessionPhase.LoadFailed:
                // Nothing of a session that is not open stays resident: its next operation loads it again.
                return Leave(state, state.ShutdownRequested ? SessionErrors.Stopped(sessionId, "it is shutting down") : null, ref effects);
            default:
                return state;
        }
    }
}
