namespace Streaming.Sessions;

/// <summary>
/// One session's state as <see cref="SessionMachine"/> sees it: its phase, its position, and the facts that decide
/// what an event does to it. A value: transitions return a new one. Times are milliseconds on the engine's
/// <see cref="SessionClock"/> (Unix time).
/// </summary>
internal readonly record struct SessionState
{
    public SessionPhase Phase { get; init; }

    /// <summary>Tokens consumed: the position the next token has.</summary>
    public long Position { get; init; }

    /// <summary>
    /// The position after the last output the session keeps: outputs are kept as their elements come back, so the
    /// tokens from here to <see cref="Position"/> are in the pipeline (unless a rebase is, see <see cref="Rebasing"/>).
    /// </summary>
    public long KeptThrough { get; init; }

    /// <summary>How many outputs the session keeps, those of the positions just before <see cref="KeptThrough"/>.</summary>
    public int Kept { get; init; }

    /// <summary>Open, reset and restore elements in the pipeline: until they are back, the outputs kept are of a stream the session has left.</summary>
    public int Rebasing { get; init; }

    /// <summary>Elements of this session in the pipeline (its operations' and its own).</summary>
    public int InFlight { get; init; }

    /// <summary>Callers' operations waiting, in order, for a phase that takes operations (or for room in flight).</summary>
    public int Waiting { get; init; }

    /// <summary>When a caller's operation last arrived or finished; passivation and expiry count from it.</summary>
    public long LastUsed { get; init; }

    /// <summary>The store may hold something of the session (it was loaded, or a save was tried since): a close deletes it.</summary>
    public bool Stored { get; init; }

    /// <summary>The state changed since the last snapshot taken for the store: a checkpoint is due.</summary>
    public bool Changed { get; init; }

    /// <summary>It was loaded from the store (a token beyond its position is then most likely a resend after a crash).</summary>
    public bool Resumed { get; init; }

    /// <summary>The pipeline holds compute slots for it (opened or restored, and not closed since).</summary>
    public bool HasSlots { get; init; }

    /// <summary>A store call (load, save or delete) is in flight; the machine starts no other until it ends.</summary>
    public bool StoreBusy { get; init; }

    /// <summary>A snapshot element for the store (checkpoint or leaving) is in the pipeline.</summary>
    public bool SnapshotForStore { get; init; }

    /// <summary>In <see cref="SessionPhase.Leaving"/>: why.</summary>
    public LeaveReason Leaving { get; init; }

    /// <summary>An eviction was asked for and waits for the session to be idle (or for the phase in progress).</summary>
    public bool EvictRequested { get; init; }

    /// <summary>The session moved elsewhere without its latest state: once idle it leaves without saving, and nothing saves it meanwhile.</summary>
    public bool DropRequested { get; init; }

    /// <summary>The engine is shutting down: once idle, the session is saved (if open) and leaves.</summary>
    public bool ShutdownRequested { get; init; }

    /// <summary>When <see cref="ShutdownRequested"/>: until when a save the store refuses is tried again.</summary>
    public long ShutdownSaveUntil { get; init; }

    /// <summary>Saves the store refused while leaving for the shutdown.</summary>
    public int ShutdownSaveAttempts { get; init; }

    /// <summary>The session had passivated on this engine before this entry loaded it (it counted as open already).</summary>
    public bool WasPassivated { get; init; }

    /// <summary>When <see cref="WasPassivated"/>: the last use saved with it (it goes back to passivated from there if its load fails).</summary>
    public long PassivatedLastUse { get; init; }

    /// <summary>In <see cref="SessionPhase.Loading"/>: only to check whether a passivated session expired; it leaves again if not, unless operations came.</summary>
    public bool Probe { get; init; }

    /// <summary>A generation is running: its elements go out one at a time, and the caller's other operations wait behind it.</summary>
    public bool Generating { get; init; }

    /// <summary>While <see cref="Generating"/>: what asked it to stop at its next step, if anything.</summary>
    public GenerationStop StopGeneration { get; init; }

    /// <summary>Why it is closed or expired, for the refusal's message; null when there is nothing to say.</summary>
    public string? Why { get; init; }

    /// <summary>Nothing in flight and nothing waiting.</summary>
    public bool Idle => InFlight == 0 && Waiting == 0;

    /// <summary>Whether the phase applies (or refuses) callers' operations at once.</summary>
    public bool TakesOperations => Phase is SessionPhase.Open or SessionPhase.Closed or SessionPhase.Expired or SessionPhase.LoadFailed;
}
