namespace Streaming.Client;

/// <summary>The model's output for one token of one session, as the server sent it.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="Position">Tokens the session has consumed, this one included (the first token's output has position 1).</param>
/// <param name="Output">The output step: the head's out_features values, or the last layer's output size.</param>
public sealed record TokenReply(string SessionId, long Position, ReadOnlyMemory<float> Output);
