namespace Streaming;

/// <summary>
/// One input step of a session: a float vector of the model's input_size, or, for a model with an
/// embedding, an integer token id. Create one with <see cref="Vector"/> or <see cref="Id"/>.
/// </summary>
public sealed record Token
{
    private Token(ReadOnlyMemory<float> values, int tokenId, bool isId)
    {
        Values = values;
        TokenId = tokenId;
        IsId = isId;
    }

    /// <summary>Whether this token is an id (for a model with an embedding) rather than a vector.</summary>
    public bool IsId { get; }

    /// <summary>The input vector (input_size values); empty for an id token.</summary>
    public ReadOnlyMemory<float> Values { get; }

    /// <summary>The token id, 0..num_embeddings-1; 0 and meaningless for a vector token.</summary>
    public int TokenId { get; }

    /// <summary>
    /// The zero-based index this token must have in the session's stream (the session's position before it), or
    /// null to apply it wherever the session is. With it set, a token the session has passed already (a client's
    /// resend) is answered with <see cref="EngineErrorCode.DuplicateToken"/> and not applied again, and one
    /// beyond the session's position (tokens missing, as after a crash resumed the session from its last persisted
    /// snapshot) with <see cref="EngineErrorCode.PositionAhead"/>; both errors carry the session's position
    /// in <see cref="EngineException.Position"/>, the index of the next token it accepts.
    /// </summary>
    public long? At { get; init; }

    /// <summary>This token, to be applied at <paramref name="position"/> only (see <see cref="At"/>); for F# and pipelines.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="position"/> is negative.</exception>
    public Token WithAt(long position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        return this with { At = position };
    }

    /// <summary>A float-vector token; the engine copies the values when the token is accepted.</summary>
    public static Token Vector(ReadOnlyMemory<float> values) => new(values, 0, isId: false);

    /// <summary>A token id, for a model with an embedding.</summary>
    public static Token Id(int id) => new(ReadOnlyMemory<float>.Empty, id, isId: true);

    /// <summary>A short description for messages: the id, or the vector's length.</summary>
    public override string ToString() => (IsId ? $"Token.Id({TokenId})" : $"Token.Vector({Values.Length} values)") + (At is { } at ? $" at {at}" : "");
}
