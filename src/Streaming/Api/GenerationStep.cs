namespace Streaming;

/// <summary>One generated step of a session, streamed as soon as it is computed.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="Step">The step's index within its generation, from 0.</param>
/// <param name="Position">Tokens the session has consumed once this step's output is fed back (the step included).</param>
/// <param name="TokenId">The generated id (models with an embedding and a head); null for a vector model.</param>
/// <param name="Probability">The model's probability of <paramref name="TokenId"/>: the float64 softmax of the logits at temperature 1, before any filtering; null for a vector model.</param>
/// <param name="Output">The model's output the step was taken from: the logits, or the vector fed back.</param>
/// <param name="Top">The <see cref="GenerationRequest.ReportTop"/> most probable ids with their probabilities, most probable first (ties by id).</param>
public sealed record GenerationStep(
    string SessionId,
    int Step,
    long Position,
    int? TokenId,
    double? Probability,
    ReadOnlyMemory<float> Output,
    IReadOnlyList<TokenProbability> Top);
