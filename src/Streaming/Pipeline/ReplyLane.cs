namespace Streaming.Pipeline;

/// <summary>
/// Hands the last stage's computed batches back to their elements' owners on the thread pool, off the stream's thread: one
/// batch after another, each batch's elements in order, so every sender gets its elements back in the order it wrote them,
/// one element at a time. The last stage starts its next batch while the lane hands back the previous one; the stream's
/// thread, which also takes new elements in, does not carry each element to a sink and through its reply.
/// </summary>
/// <param name="deliver">What a delivered element goes to (the trace, then its owner).</param>
internal sealed class ReplyLane(Action<Element> deliver)
{
    private readonly Lock _gate = new();
    private Task _tail = Task.CompletedTask;

    /// <summary>Completes once every batch handed over so far has been delivered (whatever became of each).</summary>
    public Task Drained
    {
        get
        {
            lock (_gate)
            {
                return _tail.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
        }
    }

    /// <summary>
    /// Delivers <paramref name="batch"/> after every batch handed over before it. The task faults with the first exception a
    /// delivery threw (the batch's later elements are still delivered); the next batch is delivered either way.
    /// </summary>
    public Task Deliver(IReadOnlyList<Element> batch)
    {
        lock (_gate)
        {
            _tail = _tail.ContinueWith(
                _ =>
                {
                    Exception? failure = null;
                    foreach (var element in batch)
                    {
                        try
                        {
                            deliver(element);
                        }
#pragma warning disable CA1031 // The first failure is the batch's, rethrown below; the other elements are still delivered.
                        catch (Exception e)
#pragma warning restore CA1031
                        {
                            failure ??= e;
                        }
                    }

                    if (failure is not null)
                    {
                        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
                    }
                },
                CancellationToken.None,
                TaskContinuationOptions.DenyChildAttach,
                TaskScheduler.Default);
            return _tail;
        }
    }
}
