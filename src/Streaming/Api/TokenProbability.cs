namespace Streaming;

/// <summary>An id and the model's probability of it (float64 softmax of the logits at temperature 1).</summary>
public sealed record TokenProbability(int TokenId, double Probability);
