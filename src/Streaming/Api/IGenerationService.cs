using Akka;
using Akka.Streams.Dsl;

namespace Streaming;

/// <summary>
/// Generation: a session operation that feeds each step's output back as the next input, micro-batched with all other
/// traffic (one step per batch, like a pushed token), streamed step by step, cancellable, and deterministic for a seed
/// (docs/generation.md). Afterwards the session is exactly as if the prompt and the generated tokens had been pushed
/// one by one, so it can go on streaming.
/// </summary>
public interface IGenerationService
{
    /// <summary>
    /// Generates in session <paramref name="sessionId"/>. Cold: each enumeration runs one generation. Steps arrive as
    /// they are computed. The enumeration ends after a stop id, after <see cref="GenerationRequest.MaxSteps"/> steps, or
    /// once <paramref name="cancellationToken"/> is cancelled (or the enumerator disposed): the session stops at its next
    /// step and every step it consumed is still delivered. A refused request throws its <see cref="EngineException"/> at
    /// the first step; a close, shutdown or eviction of the session ends it with
    /// <see cref="EngineErrorCode.GenerationInterrupted"/> (every step delivered before it was consumed).
    /// </summary>
    IAsyncEnumerable<GenerationStep> GenerateAsync(string sessionId, GenerationRequest request, CancellationToken cancellationToken = default);

    /// <summary>The same generation as an Akka.Streams source; cancelling the stream stops the session at its next step.</summary>
    Source<GenerationStep, NotUsed> Generate(string sessionId, GenerationRequest request);
}
