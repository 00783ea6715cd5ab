namespace Streaming.Sessions;

/// <summary>The refusals a session gives, worded once: each names what was wrong and what to do.</summary>
internal static class SessionErrors
{
    /// <summary>The engine (or the session's pipeline) stopped before the operation was applied; it was not applied.</summary>
    public static EngineException Stopped(string sessionId, string why) =>
        new(EngineErrorCode.EngineStopped, $"the engine has stopped ({why}); the operation was not applied.", sessionId);

    public static EngineException AlreadyOpen(string sessionId) =>
        new(EngineErrorCode.SessionAlreadyOpen, "the session is already open; close it first, or restore a snapshot to replace its state.", sessionId);

    public static EngineException Unknown(string sessionId, string? why) =>
        new(EngineErrorCode.UnknownSession,
            $"the session is not open on this engine{(why is null ? "" : $" ({why})")}; open it first with an Open or a Restore.", sessionId);

    public static EngineException Expired(string sessionId, string? why) =>
        new(EngineErrorCode.SessionExpired, $"the session has expired ({why}) and its state was deleted; open it again to start afresh.", sessionId);

    /// <summary>A token sent with a position the session is not at: a duplicate (behind) or one with tokens missing (ahead).</summary>
    public static EngineException OutOfPlace(string sessionId, long position, long at, bool resumed)
    {
        if (at < position)
        {
            return new EngineException(EngineErrorCode.DuplicateToken,
                $"the token is at position {at} but the session has consumed {position} token(s): it was applied already and is not applied again; the next token's position is {position}.", sessionId)
            { Position = position };
        }

        var why = resumed ? $"the session resumed at position {position} from its last persisted snapshot" : $"the session is at position {position}";
        return new EngineException(EngineErrorCode.PositionAhead,
            $"the token is at position {at} but {why}: tokens {position} to {at - 1} are missing; resend from position {position}.", sessionId)
        { Position = position };
    }

    public static EngineException EvictionNotSaved(string sessionId, string why) =>
        new(EngineErrorCode.StoreFailed, $"the session could not be saved into the store ({why}); it stays resident here.", sessionId);

    public static EngineException CloseNotDeleted(string sessionId, string why) =>
        new(EngineErrorCode.StoreFailed,
            $"the session was closed here, but deleting its persisted state from the store failed ({why}); its next operation may resume it from there.", sessionId);

    public static EngineException CloseInterrupted(string sessionId, string why) =>
        new(EngineErrorCode.StoreFailed,
            $"the session was closed here, but the engine stopped ({why}) before its persisted state was deleted; its next operation may resume it from there.", sessionId);

    /// <summary>A close, shutdown or eviction stopped a generation; what it delivered was consumed, up to <paramref name="position"/>.</summary>
    public static EngineException GenerationInterrupted(string sessionId, GenerationStop by, long position)
    {
        var what = by switch
        {
            GenerationStop.Close => "a close of the session",
            GenerationStop.Shutdown => "the engine's shutdown",
            _ => "an eviction (the session is moving to another engine)",
        };
        return new EngineException(EngineErrorCode.GenerationInterrupted,
            $"the generation was stopped by {what}; every step delivered before this was consumed, and the session is at position {position}.", sessionId)
        { Position = position };
    }

    /// <summary>Why an expired session is expired: when it was last used.</summary>
    public static string IdleSince(long lastUsed) => $"it was idle since {SessionClock.ToTime(lastUsed):u}, longer than its time-to-live";
}
