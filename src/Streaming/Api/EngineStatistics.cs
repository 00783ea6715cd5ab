namespace Streaming;

/// <summary>An immutable reading of an engine's counters.</summary>
/// <param name="SessionsOpen">Sessions open, passivated ones included.</param>
/// <param name="SessionsPassivated">Open sessions whose state is in the snapshot store rather than in the compute slots.</param>
/// <param name="TokensProcessed">Tokens computed so far: pushed tokens plus replayed steps.</param>
/// <param name="ElementsInPipeline">Elements (tokens and control elements) inside the pipeline now.</param>
/// <param name="PeakElementsInPipeline">The most elements that were ever inside the pipeline at once.</param>
/// <param name="Stages">
/// The pipeline's stages in stream order: with <see cref="PipelineLayout.PerLayer"/> one per recurrent layer from the
/// input up (<c>layer 0</c>, <c>layer 1</c>, ...), then <c>head</c> when the model has one; with
/// <see cref="PipelineLayout.Fused"/> one, <c>stack</c>.
/// </param>
public sealed record EngineStatistics(
    int SessionsOpen,
    int SessionsPassivated,
    long TokensProcessed,
    long ElementsInPipeline,
    long PeakElementsInPipeline,
    IReadOnlyList<StageStatistics> Stages)
{
    /// <summary>Sessions that expired (idle past <see cref="EngineOptions.ExpireAfter"/>) on this engine.</summary>
    public long SessionsExpired { get; init; }

    /// <summary>Checkpoints saved into the store (<see cref="EngineOptions.CheckpointEvery"/>).</summary>
    public long CheckpointsSaved { get; init; }
}
