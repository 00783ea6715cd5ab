namespace Streaming.Sessions;

/// <summary>Why a session in <see cref="SessionPhase.Leaving"/> is being saved.</summary>
internal enum LeaveReason
{
    /// <summary>Not leaving.</summary>
    None,

    /// <summary>Idle past its passivation time: saved, slots freed; its next operation loads it again.</summary>
    Passivate,

    /// <summary>Asked to move (a shard hand-off): saved, slots freed, another engine on the store loads it next.</summary>
    Evict,

    /// <summary>The engine is shutting down: saved, and the engine forgets it.</summary>
    Shutdown,
}
