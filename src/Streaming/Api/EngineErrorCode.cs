namespace Streaming;

/// <summary>What a client got wrong (or what went wrong); stable numbers, since the TCP protocol carries them.</summary>
public enum EngineErrorCode
{
    /// <summary>
    /// A token's vector has the wrong length, a non-finite value, or an id outside the vocabulary; or a generation's
    /// parameter is out of range (the message names the field).
    /// </summary>
    InvalidInput = 1,

    /// <summary>The operation names a session that is not open on this engine.</summary>
    UnknownSession = 2,

    /// <summary>An open names a session that is already open.</summary>
    SessionAlreadyOpen = 3,

    /// <summary>The model has a bidirectional layer, which needs whole sequences: only replay is served.</summary>
    TokensNotSupported = 4,

    /// <summary>A snapshot or state belongs to another model, or does not fit this model's shapes.</summary>
    ModelMismatch = 5,

    /// <summary>An h0/c0 (or replay state) has the wrong size or non-finite values.</summary>
    InvalidState = 6,

    /// <summary>A session was idle past its time-to-live and has been deleted.</summary>
    SessionExpired = 7,

    /// <summary>The engine is shutting down or has stopped.</summary>
    EngineStopped = 8,

    /// <summary>A bytes or JSON snapshot is malformed.</summary>
    MalformedSnapshot = 9,

    /// <summary>
    /// A token's <see cref="Token.At"/> is below the session's position: it was applied already (a resend) and is not
    /// applied again. <see cref="EngineException.Position"/> is the session's position.
    /// </summary>
    DuplicateToken = 10,

    /// <summary>
    /// A token's <see cref="Token.At"/> is beyond the session's position: earlier tokens are missing, as when a crash
    /// made the session resume from its last persisted snapshot. <see cref="EngineException.Position"/> is the
    /// session's position: resend from that index.
    /// </summary>
    PositionAhead = 11,

    /// <summary>The snapshot store failed to load, save or delete the session's state; the message says what failed.</summary>
    StoreFailed = 12,

    /// <summary>
    /// The model cannot generate: it needs an embedding and a head with one logit per id, or an output the size of its
    /// input, and no bidirectional layer.
    /// </summary>
    GenerationNotSupported = 15,

    /// <summary>
    /// A close, shutdown or eviction of the session stopped its generation before the generation's own end; every step
    /// delivered before it was consumed, and <see cref="EngineException.Position"/> is the session's position then.
    /// </summary>
    GenerationInterrupted = 16,
}
