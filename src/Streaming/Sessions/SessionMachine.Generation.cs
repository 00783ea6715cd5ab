using static Streaming.Sessions.SessionEffect;

namespace Streaming.Sessions;

/// <summary>
/// Generation: one operation that sends its elements one at a time, each once the previous came back. While it runs the
/// session's other operations wait behind it (so its steps are consecutive tokens of the session), and a close, the
/// engine's shutdown or an eviction asks it to stop at its next step, after which they proceed.
/// </summary>
internal static partial class SessionMachine
{
    private static SessionState OnGenerationStepDone(string sessionId, SessionState state, bool continues, long now, ref EffectList effects)
    {
        System.Diagnostics.Debug.Assert(state.Generating && state.Phase == SessionPhase.Open, "only an open session generates: what would leave or close it waits behind the generation");
        state = state with { InFlight = state.InFlight - 1, LastUsed = now };
        if (!continues)
        {
            effects.Add(Reply);
            return state with { Generating = false, StopGeneration = GenerationStop.None };
        }

        if (state.StopGeneration != GenerationStop.None)
        {
            effects.Add(new InterruptGeneration(SessionErrors.GenerationInterrupted(sessionId, state.StopGeneration, state.Position)));
            return state with { Generating = false, StopGeneration = GenerationStop.None };
        }

        effects.Add(ContinueGeneration);
        return state with { InFlight = state.InFlight + 1, Position = state.Position + 1, Changed = true };
    }

    // The first reason to stop wins; nothing to stop when no generation runs.
    private static SessionState StopGenerating(SessionState state, GenerationStop by) =>
        state.Generating && state.StopGeneration == GenerationStop.None ? state with { StopGeneration = by } : state;
}
