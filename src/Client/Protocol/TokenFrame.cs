namespace Streaming.Client.Protocol;

/// <summary>
/// One token for a session, a float vector or an integer id (build it with <see cref="OfVector"/> or
/// <see cref="OfId"/>), optionally with its position in the session's stream. Answered by exactly one Output or
/// one Error, in the session's order.
/// </summary>
public sealed record TokenFrame : SessionFrame
{
    private TokenFrame(string session, ulong sequence, TokenKind kind, ReadOnlyMemory<float> vector, int id, long? position)
        : base(session, sequence)
    {
        Kind = kind;
        Vector = vector;
        Id = id;
        Position = position;
    }

    /// <inheritdoc/>
    public override FrameType Type => FrameType.Token;

    /// <summary>Whether the token is a vector or an id.</summary>
    public TokenKind Kind { get; }

    /// <summary>The input vector (input_size floats); empty for an id.</summary>
    public ReadOnlyMemory<float> Vector { get; }

    /// <summary>The token id; 0 for a vector.</summary>
    public int Id { get; }

    /// <summary>
    /// The token's zero-based index in the session's stream, or null (not on the wire) to apply it wherever the
    /// session is. With it, the server applies the token only at that position: a resend of a token it applied
    /// already is answered DuplicateToken, a token beyond the session's position PositionAhead (docs/protocol.md,
    /// "Resending after a failure"). Never negative: the codec refuses to encode a negative one.
    /// </summary>
    public long? Position { get; init; }

    /// <summary>A float-vector token, at <paramref name="position"/> in the session's stream when given.</summary>
    public static TokenFrame OfVector(string session, ulong sequence, ReadOnlyMemory<float> vector, long? position = null) =>
        new(session, sequence, TokenKind.Vectors, vector, 0, position);

    /// <summary>An id token, for a model with an embedding, at <paramref name="position"/> in the session's stream when given.</summary>
    public static TokenFrame OfId(string session, ulong sequence, int id, long? position = null) =>
        new(session, sequence, TokenKind.Ids, ReadOnlyMemory<float>.Empty, id, position);
}
