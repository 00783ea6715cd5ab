namespace Streaming.Sessions;

/// <summary>What a session's element in the pipeline is for, so its return means the right thing.</summary>
internal enum ElementRole
{
    /// <summary>A caller's operation (other than close): its result answers the caller.</summary>
    Operation,

    /// <summary>A caller's close: answered once the stored copy is gone too.</summary>
    Close,

    /// <summary>A snapshot to save into the store (checkpoint or leaving).</summary>
    StoreSnapshot,

    /// <summary>The session's own element: the restore after a load, or the close that frees its slots when it leaves.</summary>
    Internal,
}
