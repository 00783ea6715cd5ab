using Streaming.Client.Protocol;

namespace Streaming.Host.Recording;

/// <summary>
/// <c>{"session":"a","op":"replay","inputs":[[...],...],"h0":..,"c0":..,"expect":[[...],...]}</c>, or
/// <c>"tokens":[ids]</c> instead of <c>inputs</c>: bulk mode over a whole sequence, from h0/c0 when given,
/// else from the session's current state. Build it with <see cref="OfVectors"/> or <see cref="OfIds"/>.
/// </summary>
public sealed record RecordedReplay : RecordedOperation
{
    private RecordedReplay(int line, string session, TokenKind kind, FloatMatrix? inputs, ReadOnlyMemory<int> ids)
        : base(line, session)
    {
        Kind = kind;
        Inputs = inputs;
        Ids = ids;
    }

    /// <inheritdoc/>
    public override string Op => "replay";

    /// <summary>Whether the steps are vectors (<c>inputs</c>) or ids (<c>tokens</c>).</summary>
    public TokenKind Kind { get; }

    /// <summary>The inputs, one row per step; null for ids.</summary>
    public FloatMatrix? Inputs { get; }

    /// <summary>The token ids, one per step; empty for vectors.</summary>
    public ReadOnlyMemory<int> Ids { get; }

    /// <summary>Number of steps.</summary>
    public int Steps => Inputs?.Rows ?? Ids.Length;

    /// <summary>Initial hidden state, or null to start from the session's state.</summary>
    public FloatMatrix? H0 { get; init; }

    /// <summary>Initial cell state (LSTM), or null to start from the session's state.</summary>
    public FloatMatrix? C0 { get; init; }

    /// <summary>The expected outputs, one row per step, or null when the line has no <c>expect</c>.</summary>
    public FloatMatrix? Expect { get; init; }

    /// <summary>A replay of vectors, one row per step.</summary>
    public static RecordedReplay OfVectors(int line, string session, FloatMatrix inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return new RecordedReplay(line, session, TokenKind.Vectors, inputs, ReadOnlyMemory<int>.Empty);
    }

    /// <summary>A replay of token ids.</summary>
    public static RecordedReplay OfIds(int line, string session, ReadOnlyMemory<int> ids) =>
        new(line, session, TokenKind.Ids, null, ids);
}
