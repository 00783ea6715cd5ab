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

    /// <summary>A float-vector token; the engine copies the values when the token is accepted.</summary>
    public static Token Vector(ReadOnlyMemory<float> values) => new(values, 0, isId: false);

    /// <summary>A token id, for a model with an embedding.</summary>
    public static Token Id(int id) => new(ReadOnlyMemory<float>.Empty, id, isId: true);

    /// <summary>A short description for messages: the id, or the vector's length.</summary>
    public override string ToString() => IsId ? $"Token.Id({TokenId})" : $"Token.Vector({Values.Length} values)";
}
