namespace Streaming.Sessions;

/// <summary>What <see cref="SessionMachine"/> decided for one event: the session's new state and the effects to perform, in order.</summary>
internal readonly record struct Decision(SessionState State, EffectList Effects);
