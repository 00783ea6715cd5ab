namespace Streaming.Sessions;

/// <summary>A generation's request, checked against the model and copied: what <see cref="GenerateOperation"/> runs.</summary>
/// <param name="TakesIds">The model has an embedding and a head with one logit per id: ids are sampled and fed back; otherwise output vectors are.</param>
/// <param name="InputSize">Values per vector token (input_size).</param>
/// <param name="OutputSize">Values per output step: the logits, or the vector fed back (equal to <paramref name="InputSize"/>).</param>
/// <param name="PromptValues">A vector model's prompt, (length, input_size); empty for ids.</param>
/// <param name="PromptIds">An id model's prompt; null for vectors.</param>
/// <param name="PromptLength">Prompt tokens.</param>
/// <param name="MaxSteps">Steps at most.</param>
/// <param name="Sampling">How ids are picked.</param>
/// <param name="StopIds">Ids that end the generation once generated.</param>
/// <param name="ReportTop">Most probable ids reported per step.</param>
internal sealed record GenerationPlan(
    bool TakesIds,
    int InputSize,
    int OutputSize,
    float[] PromptValues,
    int[]? PromptIds,
    int PromptLength,
    int MaxSteps,
    SamplingRule Sampling,
    IReadOnlySet<int> StopIds,
    int ReportTop)
{
    /// <summary>A prompt this long or longer runs as one bulk replay; a shorter one as tokens, each batched with other sessions' steps.</summary>
    public const int BulkPromptFrom = 8;
}
