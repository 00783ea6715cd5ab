namespace Streaming.Sessions;

/// <summary>
/// What a session on this engine is doing: the named states of <see cref="SessionMachine"/>. In the phases that
/// take operations (<see cref="Open"/>, <see cref="Closed"/>, <see cref="Expired"/>, <see cref="LoadFailed"/>) a caller's operation is applied
/// or refused at once; in the others it waits, in order, until the phase ends. docs/architecture.md has the table of
/// phases and events.
/// </summary>
internal enum SessionPhase
{
    /// <summary>New here: what the store holds of the session is being read (or, for a passivated session, checked for expiry).</summary>
    Loading,

    /// <summary>Open and resident: operations apply.</summary>
    Open,

    /// <summary>A close has been applied; the stored copy is deleted (after any save in flight) before the close is answered.</summary>
    Closing,

    /// <summary>Not open here (never opened, closed, or nothing stored): operations other than open and restore are refused as unknown.</summary>
    Closed,

    /// <summary>Held for a save before it leaves: passivation, eviction or shutdown (<see cref="SessionState.Leaving"/> says which).</summary>
    Leaving,

    /// <summary>Idle past its time-to-live: its tombstone is being saved.</summary>
    Expiring,

    /// <summary>The store holds its tombstone: operations other than open and restore are refused as expired.</summary>
    Expired,

    /// <summary>
    /// Its load failed: whether the store holds it is not known, so it is neither unknown nor new. A restore applies
    /// (it replaces whatever was stored); other operations are refused StoreFailed (retryable), and once idle the entry
    /// leaves, so the next operation asks the store again.
    /// </summary>
    LoadFailed,

    /// <summary>Left this engine's directory: nothing more happens to it here (a later operation finds a new entry).</summary>
    Gone,
}
