namespace Streaming.Client;

/// <summary>
/// One input step to send: a float vector of the model's input size, or, for a model with an embedding, a token id
/// (<see cref="Protocol.WelcomeFrame.TokenKind"/> says which the server takes). Create one with <see cref="Vector"/> or <see cref="Id"/>.
/// </summary>
public sealed record TokenInput
{
    private TokenInput(ReadOnlyMemory<float> values, int tokenId, bool isId)
    {
        Values = values;
        TokenId = tokenId;
        IsId = isId;
    }

    /// <summary>Whether this is a token id rather than a vector.</summary>
    public bool IsId { get; }

    /// <summary>The input vector; empty for an id.</summary>
    public ReadOnlyMemory<float> Values { get; }

    /// <summary>The token id, 0..num_embeddings-1; 0 and meaningless for a vector.</summary>
    public int TokenId { get; }

    /// <summary>
    /// The zero-based index this token must have in the session's stream, or null to apply it wherever the session is;
    /// see <see cref="StreamingClient.PushAsync"/> for what the server answers when it does not match.
    /// </summary>
    public long? At { get; init; }

    /// <summary>A float-vector token; the values are read when the request is sent.</summary>
    public static TokenInput Vector(ReadOnlyMemory<float> values) => new(values, 0, isId: false);

    /// <summary>A token id, for a model with an embedding.</summary>
    public static TokenInput Id(int id) => new(ReadOnlyMemory<float>.Empty, id, isId: true);

    /// <summary>This token, to be applied at <paramref name="position"/> only (see <see cref="At"/>); for F# and pipelines.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="position"/> is negative.</exception>
    public TokenInput WithAt(long position)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        return this with { At = position };
    }

    /// <summary>A short description for messages: the id, or the vector's length.</summary>
    public override string ToString() => (IsId ? $"TokenInput.Id({TokenId})" : $"TokenInput.Vector({Values.Length} values)") + (At is { } at ? $" at {at}" : "");
}
