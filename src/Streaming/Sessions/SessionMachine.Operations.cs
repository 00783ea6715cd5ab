using static Streaming.Sessions.SessionEffect;

namespace Streaming.Sessions;

/// <summary>The callers' operations, and how a session leaves.</summary>
internal static partial class SessionMachine
{
    // A new operation waits behind those already waiting, and while the phase holds operations or the session is at
    // its in-flight limit; otherwise it starts now.
    private static SessionState Submit(SessionRules rules, string sessionId, SessionState state, SessionCommand command, long now, ref EffectList effects)
    {
        state = state with { LastUsed = now };
        if (command is SessionCommand.Close)
        {
            // A close does not wait for a generation's own end: it stops it at its next step.
            state = StopGenerating(state, GenerationStop.Close);
        }

        if (state.Waiting > 0 || !Accepts(rules, state))
        {
            effects.Add(Queue);
            return state with { Waiting = state.Waiting + 1 };
        }

        return Start(sessionId, state, command, ref effects);
    }

    private static SessionState Start(string sessionId, SessionState state, SessionCommand command, ref EffectList effects) =>
        state.Phase == SessionPhase.Open
            ? StartOpen(sessionId, state, command, ref effects)
            : StartNotOpen(sessionId, state, command, ref effects);

    private static SessionState StartOpen(string sessionId, SessionState state, SessionCommand command, ref EffectList effects)
    {
        switch (command)
        {
            case SessionCommand.Open:
                effects.Add(new Refuse(SessionErrors.AlreadyOpen(sessionId)));
                return state;
            case SessionCommand.Push { At: { } at } when at != state.Position:
                effects.Add(new Refuse(SessionErrors.OutOfPlace(sessionId, state.Position, at, state.Resumed)));
                return state;
            case SessionCommand.Snapshot:
                return Applied(state, ref effects);
            case SessionCommand.Close:
                effects.Add(Count.Of(SessionCounter.Closed));
                // Answered in Closing, once what the store holds of it is gone too.
                return Applied(state, ref effects) with
                {
                    Phase = SessionPhase.Closing,
                    Changed = false,
                    Resumed = false,
                    HasSlots = false,
                    Why = "it was closed",
                };
            default:
                return Applied(state, ref effects) with
                {
                    Position = PositionAfter(state.Position, command),
                    Changed = true,
                    Resumed = state.Resumed && command is not SessionCommand.Restore,
                    Generating = command is SessionCommand.Generate,
                };
        }
    }

    private static SessionState StartNotOpen(string sessionId, SessionState state, SessionCommand command, ref EffectList effects)
    {
        switch (command)
        {
            case SessionCommand.Open or SessionCommand.Restore:
                effects.Add(Count.Of(SessionCounter.Opened));
                return Applied(state, ref effects) with
                {
                    Phase = SessionPhase.Open,
                    Position = PositionAfter(0, command),
                    Changed = true,
                    Resumed = false,
                    HasSlots = true,
                    Why = null,
                };
            case var _ when state.Phase == SessionPhase.Expired:
                effects.Add(new Refuse(SessionErrors.Expired(sessionId, state.Why)));
                return state;
            default:
                effects.Add(new Refuse(SessionErrors.Unknown(sessionId, state.Why)));
                return state;
        }
    }

    private static SessionState Applied(SessionState state, ref EffectList effects)
    {
        effects.Add(Apply);
        return state with { InFlight = state.InFlight + 1 };
    }

    private static long PositionAfter(long position, SessionCommand command) => command switch
    {
        SessionCommand.Push => position + 1,
        SessionCommand.Replay replay => position + replay.Steps,
        SessionCommand.Generate generate => position + generate.FirstSteps,
        SessionCommand.Restore restore => restore.Position,
        SessionCommand.Open or SessionCommand.Reset => 0,
        _ => position,
    };

    // Leaving, expiring: the snapshot goes through the pipeline in order; its save follows when it comes back.
    private static SessionState BeginLeaving(SessionState state, LeaveReason reason, ref EffectList effects)
    {
        effects.Add(SendSnapshot);
        return state with
        {
            Phase = SessionPhase.Leaving,
            Leaving = reason,
            Changed = false,
            SnapshotForStore = true,
            InFlight = state.InFlight + 1,
        };
    }

    // The leaving save is in the store. Operations that came meanwhile (passivation, eviction) keep the session here.
    private static SessionState FinishLeaving(string sessionId, SessionState state, ref EffectList effects)
    {
        var reason = state.Leaving;
        state = state with { Leaving = LeaveReason.None };
        if (state.Waiting > 0)
        {
            if (state.EvictRequested)
            {
                effects.Add(EvictionDone.No);
            }

            return state with { Phase = SessionPhase.Open, EvictRequested = false };
        }

        state = FreeSlots(state, ref effects);
        switch (reason)
        {
            case LeaveReason.Passivate:
                effects.Add(new MarkPassivated(state.LastUsed));
                effects.Add(Count.Of(SessionCounter.Passivated));
                break;
            case LeaveReason.Evict:
                effects.Add(Count.Of(SessionCounter.Closed));
                break;
        }

        if (state.EvictRequested)
        {
            // Whatever the reason, the session is in the store and its slots are freed: it has moved out.
            effects.Add(EvictionDone.Yes);
        }

        return Leave(state with { EvictRequested = false }, reason == LeaveReason.Shutdown ? SessionErrors.Stopped(sessionId, "it is shutting down") : null, ref effects);
    }

    private static SessionState FreeSlots(SessionState state, ref EffectList effects)
    {
        effects.Add(SendClose);
        return state with { InFlight = state.InFlight + 1, HasSlots = false };
    }

    private static SessionState Leave(SessionState state, EngineException? refusal, ref EffectList effects)
    {
        if (state.EvictRequested)
        {
            effects.Add(EvictionDone.No);
        }

        effects.Add(new Leave(refusal));
        return state with { Phase = SessionPhase.Gone, EvictRequested = false };
    }
}
