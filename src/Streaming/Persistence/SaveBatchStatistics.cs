namespace Streaming.Persistence;

/// <summary>
/// What a <see cref="SqlSnapshotStore"/>'s batched saves have done since it opened. Each batch is one transaction on
/// one connection of the store budget.
/// </summary>
/// <param name="Batches">Batches committed.</param>
/// <param name="Rows">Rows those batches wrote (one per session in each).</param>
/// <param name="Saves">Save calls completed by them (more than <paramref name="Rows"/> when a save replaced an earlier one of the same session still waiting).</param>
/// <param name="FailedBatches">Batches whose transaction failed and was rolled back.</param>
/// <param name="FailedSaves">Save calls failed by those batches.</param>
/// <param name="LargestBatch">The most rows one committed batch wrote.</param>
/// <param name="MostInFlight">The most batches written at once (each holds one connection).</param>
public sealed record SaveBatchStatistics(long Batches, long Rows, long Saves, long FailedBatches, long FailedSaves, int LargestBatch, int MostInFlight);
