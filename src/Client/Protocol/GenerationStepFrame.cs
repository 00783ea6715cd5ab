namespace Streaming.Client.Protocol;

/// <summary>
/// One generated step, sent as soon as it is computed. For a model with an embedding and a head it carries the id, the
/// model's probability of it and the requested top ids; for a vector model the output vector that was fed back.
/// </summary>
/// <param name="Session">The session.</param>
/// <param name="Sequence">The Generate frame's sequence number.</param>
/// <param name="Step">The step's index within its generation, from 0.</param>
/// <param name="Position">Tokens the session has consumed once this step is fed back (the step included).</param>
public sealed record GenerationStepFrame(string Session, ulong Sequence, int Step, long Position) : SessionFrame(Session, Sequence)
{
    /// <inheritdoc/>
    public override FrameType Type => FrameType.GenerationStep;

    /// <summary>Ids for a model with an embedding and a head; vectors for a vector model.</summary>
    public TokenKind Kind { get; init; } = TokenKind.Ids;

    /// <summary>The generated id (kind ids).</summary>
    public int TokenId { get; init; }

    /// <summary>The model's probability of <see cref="TokenId"/> (float64 softmax at temperature 1); kind ids.</summary>
    public double Probability { get; init; }

    /// <summary>The most probable ids with their probabilities, most probable first (kind ids); empty unless asked for.</summary>
    public IReadOnlyList<TokenProbability> Top { get; init; } = [];

    /// <summary>The output vector fed back (kind vectors); empty for ids.</summary>
    public ReadOnlyMemory<float> Output { get; init; }
}
