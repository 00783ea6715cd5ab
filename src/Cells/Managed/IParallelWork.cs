namespace Streaming.Cells.Managed;

/// <summary>Work cut into chunks that <see cref="WorkerPool"/> hands out to whichever thread is free.</summary>
internal interface IParallelWork
{
    /// <summary>Runs chunk <paramref name="chunk"/> of <paramref name="chunks"/>; chunks must not overlap in what they write.</summary>
    void Execute(int chunk, int chunks);
}
