namespace Streaming.Pipeline;

/// <summary>Batch counters of one stage: written by the stage, read by anyone.</summary>
internal sealed class StageCounters(string name)
{
    private const int Buckets = 32;
    private readonly long[] _histogram = new long[Buckets];
    private readonly Lock _lock = new();
    private long _batches;
    private long _elements;
    private int _largest;
    private long _busyTicks;
    private long _waitTicks;

    public string Name { get; } = name;

    public void Record(int batchSize)
    {
        // Bucket 0 holds size 1; bucket i holds 2^(i-1)+1 .. 2^i.
        var bucket = batchSize <= 1 ? 0 : Math.Min(Buckets - 1, 32 - int.LeadingZeroCount(batchSize - 1));
        lock (_lock)
        {
            _batches++;
            _elements += batchSize;
            _largest = Math.Max(_largest, batchSize);
            _histogram[bucket]++;
        }
    }

    /// <summary>Adds the time one batch took to compute (Stopwatch ticks).</summary>
    public void Computed(long ticks) => Interlocked.Add(ref _busyTicks, ticks);

    /// <summary>Adds the time a batch's elements waited in the stage's queue, summed over the elements (Stopwatch ticks).</summary>
    public void Waited(long ticks) => Interlocked.Add(ref _waitTicks, ticks);

    public StageStatistics Read()
    {
        lock (_lock)
        {
            var last = Array.FindLastIndex(_histogram, c => c != 0);
            return new StageStatistics(Name, _batches, _elements, _largest, _histogram[..(last + 1)])
            {
                Busy = TimeSpan.FromSeconds(Interlocked.Read(ref _busyTicks) / (double)System.Diagnostics.Stopwatch.Frequency),
                QueueWait = TimeSpan.FromSeconds(Interlocked.Read(ref _waitTicks) / (double)System.Diagnostics.Stopwatch.Frequency),
            };
        }
    }
}
