namespace Streaming.Client;

/// <summary>An id and the model's probability of it (float64 softmax of the logits at temperature 1), as the server sends it.</summary>
/// <param name="TokenId">The id.</param>
/// <param name="Probability">Its probability, 0 to 1.</param>
public sealed record TokenProbability(int TokenId, double Probability);
