namespace Streaming;

/// <summary>Counters of one pipeline stage (a recurrent layer, the head, or the whole stack), as of when they were read.</summary>
/// <param name="Name">The stage: <c>layer 0</c>, <c>layer 1</c>, ..., <c>head</c>; or <c>stack</c> in the fused layout.</param>
/// <param name="Batches">Batches computed.</param>
/// <param name="Elements">Elements (tokens and control elements) computed, over all batches.</param>
/// <param name="LargestBatch">Elements in the largest batch so far.</param>
/// <param name="BatchSizeHistogram">
/// Batches by size: entry 0 counts batches of 1 element, entry i (i &gt;= 1) batches of 2^(i-1)+1 to 2^i elements.
/// </param>
public sealed record StageStatistics(string Name, long Batches, long Elements, int LargestBatch, IReadOnlyList<long> BatchSizeHistogram)
{
    /// <summary>Wall time the stage spent computing batches, summed over all batches.</summary>
    public TimeSpan Busy { get; init; }

    /// <summary>
    /// Time elements waited in the stage's queue before their batch started, summed over all elements; divided
    /// by <see cref="Elements"/> it is the mean queue wait per element at this stage.
    /// </summary>
    public TimeSpan QueueWait { get; init; }
}
