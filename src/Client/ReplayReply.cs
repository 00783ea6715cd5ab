namespace Streaming.Client;

/// <summary>The outputs of a replay: one bulk run over a whole sequence of one session.</summary>
/// <param name="SessionId">The session.</param>
/// <param name="Position">Tokens the session has consumed after the replay (the replayed steps included).</param>
/// <param name="Outputs">One output step per input token, in order.</param>
public sealed record ReplayReply(string SessionId, long Position, IReadOnlyList<ReadOnlyMemory<float>> Outputs);
