namespace Streaming.Sessions;

/// <summary>What asked a generating session to stop its generation at the next step, before the generation's own end.</summary>
internal enum GenerationStop
{
    /// <summary>Nothing: the generation runs until its own end (stop id, maximum steps, the caller's cancel).</summary>
    None,

    /// <summary>A close of the session waits behind the generation.</summary>
    Close,

    /// <summary>The engine is shutting down.</summary>
    Shutdown,

    /// <summary>The session is asked to move out (a shard hand-off).</summary>
    Evict,
}
