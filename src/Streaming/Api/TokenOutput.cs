namespace Streaming;

/// <summary>The model's output for one token of one session.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="Position">Tokens the session has consumed, including this one (the first token's output has position 1).</param>
/// <param name="Output">The output step: the head's out_features values, or the last layer's output size.</param>
public sealed record TokenOutput(string SessionId, long Position, ReadOnlyMemory<float> Output);
