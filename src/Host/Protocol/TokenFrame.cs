namespace Streaming.Host.Protocol;

/// <summary>
/// One token for a session, a float vector or an integer id (build it with <see cref="OfVector"/> or
/// <see cref="OfId"/>). Answered by exactly one Output or one Error, in the session's order.
/// </summary>
public sealed record TokenFrame : SessionFrame
{
    private TokenFrame(string session, ulong sequence, TokenKind kind, ReadOnlyMemory<float> vector, int id)
        : base(session, sequence)
    {
        Kind = kind;
        Vector = vector;
        Id = id;
    }

    /// <inheritdoc/>
    public override FrameType Type => FrameType.Token;

    /// <summary>Whether the token is a vector or an id.</summary>
    public TokenKind Kind { get; }

    /// <summary>The input vector (input_size floats); empty for an id.</summary>
    public ReadOnlyMemory<float> Vector { get; }

    /// <summary>The token id; 0 for a vector.</summary>
    public int Id { get; }

    /// <summary>A float-vector token.</summary>
    public static TokenFrame OfVector(string session, ulong sequence, ReadOnlyMemory<float> vector) =>
        new(session, sequence, TokenKind.Vectors, vector, 0);

    /// <summary>An id token, for a model with an embedding.</summary>
    public static TokenFrame OfId(string session, ulong sequence, int id) =>
        new(session, sequence, TokenKind.Ids, ReadOnlyMemory<float>.Empty, id);
}
