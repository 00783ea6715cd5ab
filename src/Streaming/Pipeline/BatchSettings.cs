namespace Streaming.Pipeline;

/// <summary>How a <see cref="BatchStage"/> forms batches.</summary>
/// <param name="MaxBatchSize">The most elements in one batch.</param>
/// <param name="QueueCapacity">The most elements waiting for a batch; the stage stops pulling when it is full.</param>
/// <param name="BatchWait">After a batch, how long to wait for a fuller one (zero: start at once).</param>
internal sealed record BatchSettings(int MaxBatchSize, int QueueCapacity, TimeSpan BatchWait);
