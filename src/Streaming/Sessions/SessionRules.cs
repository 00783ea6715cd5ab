namespace Streaming.Sessions;

/// <summary>The engine's settings that <see cref="SessionMachine"/> decides by; times in milliseconds.</summary>
/// <param name="MaxInFlight">The most elements of one session in the pipeline; callers' operations beyond it wait.</param>
/// <param name="PassivateAfterMs">Idle this long, an open session passivates; null: never.</param>
/// <param name="ExpireAfterMs">Idle this long, a session expires; null: never.</param>
/// <param name="KeptOutputs">The outputs of its most recent tokens a session keeps (in memory and in its stored copy), to answer a resent token with its output; 0: none.</param>
/// <param name="ShutdownSaveMs">How long after a shutdown began a save the store refused is tried again; 0: tried once.</param>
internal sealed record SessionRules(int MaxInFlight, long? PassivateAfterMs, long? ExpireAfterMs, int KeptOutputs = 0, long ShutdownSaveMs = 0)
{
    /// <summary>Whether a session last used at <paramref name="lastUsed"/> is past its time-to-live at <paramref name="now"/>.</summary>
    /// <remarks>One rule for every check (the sweep, a load, a passivated session's probe), on one clock, so they never disagree.</remarks>
    public bool IsExpired(long lastUsed, long now) => ExpireAfterMs is { } ttl && now - lastUsed >= ttl;

    /// <summary>Whether a session last used at <paramref name="lastUsed"/> is due to passivate at <paramref name="now"/>.</summary>
    public bool IsPassivationDue(long lastUsed, long now) => PassivateAfterMs is { } after && now - lastUsed >= after;
}
