namespace Streaming.Pipeline;

/// <summary>
/// What a <see cref="BatchStage"/> computes. <see cref="Process"/> runs off the stream's thread, one batch at a
/// time, and writes each element's results into it.
/// </summary>
internal interface IBatchProcessor : IDisposable
{
    /// <summary>Processes a batch in which each session appears at most once.</summary>
    void Process(IReadOnlyList<Element> batch);
}
