namespace Streaming.Client.Protocol;

/// <summary>
/// Why the server refused a session request: the Error frame codes 1 to 99 of docs/protocol.md, which the engine
/// answers with (the server's <c>EngineErrorCode</c> has the same numbers). Codes from 100 are <see cref="ProtocolErrorCode"/>.
/// </summary>
public enum SessionErrorCode
{
    /// <summary>A token's vector has the wrong length, a non-finite value, or an id outside the vocabulary.</summary>
    InvalidInput = 1,

    /// <summary>The operation names a session that is not open.</summary>
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

    /// <summary>The server is shutting down or has stopped: the request was not applied.</summary>
    EngineStopped = 8,

    /// <summary>A snapshot's bytes are malformed.</summary>
    MalformedSnapshot = 9,

    /// <summary>A token's position is below the session's: it was applied already and is not applied again. The Error carries the session's position.</summary>
    DuplicateToken = 10,

    /// <summary>A token's position is beyond the session's: earlier tokens are missing. The Error carries the session's position: resend from there.</summary>
    PositionAhead = 11,

    /// <summary>The server's snapshot store failed to load, save or delete the session's state.</summary>
    StoreFailed = 12,

    /// <summary>The node is not ready to serve sessions (not joined yet, or leaving): nothing was applied; retry later or at another node.</summary>
    NotReady = 13,

    /// <summary>A positioned token got no answer from its session's node before its deadline (its shard is moving). The Error carries the token's position: resend from there.</summary>
    SessionUnavailable = 14,

    /// <summary>The model cannot generate, or the server does not serve generation (a cluster node, for now).</summary>
    GenerationNotSupported = 15,

    /// <summary>A close, shutdown or eviction of the session stopped its generation; every step sent before it stays valid.</summary>
    GenerationInterrupted = 16,
}
