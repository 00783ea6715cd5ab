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

    // A copy keeps the message as it was written, session prefix included.
    private EngineException(EngineException original, TokenOutput output)
        : base(original.Message)
    {
        Code = original.Code;
        SessionId = original.SessionId;
        Position = original.Position;
        Output = output;
    }

    /// <summary>What kind of problem it is.</summary>
    public EngineErrorCode Code { get; }

    /// <summary>
    /// For <see cref="EngineErrorCode.DuplicateToken"/> and <see cref="EngineErrorCode.PositionAhead"/>: the session's
    /// position (tokens it has consumed), which is the index of the next token it accepts; null otherwise.
    /// </summary>
    public long? Position { get; init; }

    /// <summary>
    /// For <see cref="EngineErrorCode.DuplicateToken"/>: the token's original output, when the session still keeps it
    /// (it keeps the outputs of its most recent tokens, <see cref="EngineOptions.KeptOutputs"/>, also in its persisted
    /// snapshot), so a client that resends after losing answers (a dropped connection, a crashed node) still receives
    /// every output once; null when the token is older than what the session keeps, and for every other code.
    /// </summary>
    public TokenOutput? Output { get; init; }

    /// <summary>The session concerned, when there is one.</summary>
    public string? SessionId { get; }

    /// <summary>This refusal, carrying <paramref name="output"/> (a duplicate's original output).</summary>
    internal EngineException WithOutput(TokenOutput output) => new(this, output);
}
