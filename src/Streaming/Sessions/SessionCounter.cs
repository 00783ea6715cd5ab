namespace Streaming.Sessions;

/// <summary>The engine's session counters that a decision moves.</summary>
internal enum SessionCounter
{
    Opened,
    Closed,
    Passivated,
    Resumed,
    Expired,
    CheckpointSaved,
    CheckpointFailed,
    StoreCallFailed,
    ShutdownSaveFailed,
}
