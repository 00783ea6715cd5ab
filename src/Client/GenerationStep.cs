namespace Streaming.Client;

/// <summary>One generated step, as the server streamed it (the engine's record of the same name, less the logits).</summary>
/// <param name="Session">The session.</param>
/// <param name="Step">The step's index within its generation, from 0.</param>
/// <param name="Position">Tokens the session has consumed once this step is fed back (the step included).</param>
/// <param name="TokenId">The generated id; null for a vector model.</param>
/// <param name="Probability">The model's probability of <paramref name="TokenId"/> (softmax at temperature 1); null for a vector model.</param>
/// <param name="Output">The vector fed back (vector model); empty for ids.</param>
/// <param name="Top">The most probable ids with their probabilities, most probable first, as many as the request asked for.</param>
public sealed record GenerationStep(
    string Session,
    int Step,
    long Position,
    int? TokenId,
    double? Probability,
    ReadOnlyMemory<float> Output,
    IReadOnlyList<TokenProbability> Top);
