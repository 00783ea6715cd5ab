namespace Streaming;

/// <summary>An operation the engine refused; the session (and every other) goes on as if it was never sent.</summary>
public sealed class EngineException : Exception
{
    /// <summary>Creates the exception.</summary>
    public EngineException(EngineErrorCode code, string message, string? sessionId = null)
        : base(sessionId is null ? message : $"session '{sessionId}': {message}")
    {
        Code = code;
        SessionId = sessionId;
    }

    /// <summary>What kind of problem it is.</summary>
    public EngineErrorCode Code { get; }

    /// <summary>
    /// For <see cref="EngineErrorCode.DuplicateToken"/> and <see cref="EngineErrorCode.PositionAhead"/>: the session's
    /// position (tokens it has consumed), which is the index of the next token it accepts; null otherwise.
    /// </summary>
    public long? Position { get; init; }

    /// <summary>The session concerned, when there is one.</summary>
    public string? SessionId { get; }
}
