using Streaming.Client.Protocol;

namespace Streaming.Host.Recording;

/// <summary>
/// <c>{"session":"a","op":"token","input":[...],"expect":[...]}</c>, or <c>"token":7</c> instead of
/// <c>input</c> for a model with an embedding. Build it with <see cref="OfVector"/> or <see cref="OfId"/>.
/// </summary>
public sealed record RecordedToken : RecordedOperation
{
    private RecordedToken(int line, string session, TokenKind kind, ReadOnlyMemory<float> input, int id)
        : base(line, session)
    {
        Kind = kind;
        Input = input;
        Id = id;
    }

    /// <inheritdoc/>
    public override string Op => "token";

    /// <summary>Whether the token is a vector (<c>input</c>) or an id (<c>token</c>).</summary>
    public TokenKind Kind { get; }

    /// <summary>The input vector; empty for an id.</summary>
    public ReadOnlyMemory<float> Input { get; }

    /// <summary>The token id; 0 for a vector.</summary>
    public int Id { get; }

    /// <summary>The expected output, or null when the line has no <c>expect</c>.</summary>
    public ReadOnlyMemory<float>? Expect { get; init; }

    /// <summary>A vector token.</summary>
    public static RecordedToken OfVector(int line, string session, ReadOnlyMemory<float> input) =>
        new(line, session, TokenKind.Vectors, input, 0);

    /// <summary>An id token.</summary>
    public static RecordedToken OfId(int line, string session, int id) =>
        new(line, session, TokenKind.Ids, ReadOnlyMemory<float>.Empty, id);
}
