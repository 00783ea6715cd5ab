using System.Threading.Channels;
using Streaming.Persistence;

namespace Streaming.Tests.Persistence;

/// <summary>
/// The save batcher on its own, with a writer the test holds and releases batch by batch: which saves go together,
/// how large a batch may grow, what a failed batch does to its callers. No database, no clock.
/// </summary>
public sealed class SaveBatcherTests
{
    [Fact]
    public async Task Saves_that_arrive_while_the_budget_is_busy_go_together_into_the_next_batch()
    {
        var writer = new HeldWriter();
        var batcher = Batcher(writer, connections: 1);

        var first = batcher.SaveAsync("s0", Row("s0", 1), CancellationToken.None);
        var firstBatch = await writer.NextAsync();
        var others = Enumerable.Range(1, 25).Select(i => batcher.SaveAsync($"s{i}", Row($"s{i}", 1), CancellationToken.None)).ToArray();
        Assert.Equal(25, batcher.Waiting);
        Assert.False(first.IsCompleted);

        firstBatch.Commit();
        await first;
        var secondBatch = await writer.NextAsync();
        Assert.Equal(Enumerable.Range(1, 25).Select(i => $"s{i}"), secondBatch.Rows.Select(r => r.PersistenceId));
        Assert.All(others, save => Assert.False(save.IsCompleted));

        secondBatch.Commit();
        await Task.WhenAll(others);
        Assert.Equal(new SaveBatchStatistics(Batches: 2, Rows: 26, Saves: 26, FailedBatches: 0, FailedSaves: 0, LargestBatch: 25, MostInFlight: 1), batcher.Statistics);
        Assert.Equal(0, batcher.Waiting);
    }

    [Fact]
    public async Task A_batch_holds_at_most_its_rows_and_bytes_and_a_save_larger_than_the_bytes_goes_alone()
    {
        var writer = new HeldWriter();
        var batcher = Batcher(writer, connections: 1, maxRows: 4, maxBytes: 250);

        var saves = new List<Task> { batcher.SaveAsync("hold", Row("hold", 1), CancellationToken.None) };
        var holding = await writer.NextAsync();
        // Ten of 100 bytes, one of 1,000, then five of 10.
        saves.AddRange(Enumerable.Range(0, 10).Select(i => batcher.SaveAsync($"a{i}", Row($"a{i}", 1, bytes: 100), CancellationToken.None)));
        saves.Add(batcher.SaveAsync("large", Row("large", 1, bytes: 1_000), CancellationToken.None));
        saves.AddRange(Enumerable.Range(0, 5).Select(i => batcher.SaveAsync($"b{i}", Row($"b{i}", 1, bytes: 10), CancellationToken.None)));
        holding.Commit();

        var sizes = new List<string>();
        while (sizes.Count < 8)
        {
            var batch = await writer.NextAsync();
            sizes.Add(string.Join(",", batch.Rows.Select(r => r.PersistenceId)));
            batch.Commit();
        }

        await Task.WhenAll(saves);
        Assert.Equal(new[] { "a0,a1", "a2,a3", "a4,a5", "a6,a7", "a8,a9", "large", "b0,b1,b2,b3", "b4" }, sizes);
        Assert.Equal(4, batcher.Statistics.LargestBatch);
        Assert.Equal(9, batcher.Statistics.Batches);
    }

    [Fact]
    public async Task With_one_writer_the_next_batch_waits_for_the_one_being_written_though_connections_are_free()
    {
        var writer = new HeldWriter();
        var limiter = new StoreCallLimiter(4, maxQueued: 1_000, "the test store");
        var batcher = new SaveBatcher(limiter, writers: 1, 256, 1 << 20, "the test store", writer.WriteAsync);

        var first = batcher.SaveAsync("s0", Row("s0", 1), CancellationToken.None);
        var writing = await writer.NextAsync();
        var others = Enumerable.Range(1, 10).Select(i => batcher.SaveAsync($"s{i}", Row($"s{i}", 1), CancellationToken.None)).ToArray();
        Assert.Equal(10, batcher.Waiting);
        Assert.Equal(3, limiter.Free);

        writing.Commit();
        var next = await writer.NextAsync();
        Assert.Equal(10, next.Rows.Count);
        next.Commit();
        await Task.WhenAll(others.Append(first));
        Assert.Equal((2L, 1), (batcher.Statistics.Batches, batcher.Statistics.MostInFlight));
    }

    [Fact]
    public async Task A_later_save_of_a_session_still_waiting_replaces_the_earlier_and_both_complete_with_its_commit()
    {
        var writer = new HeldWriter();
        var batcher = Batcher(writer, connections: 1);
        var hold = batcher.SaveAsync("hold", Row("hold", 1), CancellationToken.None);
        var holding = await writer.NextAsync();

        var older = batcher.SaveAsync("a", Row("a", 5, fill: 5), CancellationToken.None);
        var other = batcher.SaveAsync("b", Row("b", 1), CancellationToken.None);
        var newer = batcher.SaveAsync("a", Row("a", 6, fill: 6), CancellationToken.None);
        holding.Commit();
        var batch = await writer.NextAsync();

        Assert.Equal(new[] { ("a", 6L, (byte)6), ("b", 1L, (byte)1) }, batch.Rows.Select(r => (r.PersistenceId, r.SequenceNr, r.Payload[0])));
        Assert.False(older.IsCompleted);
        batch.Commit();
        await Task.WhenAll(hold, older, other, newer);
        Assert.Equal((3L, 4L), (batcher.Statistics.Rows, batcher.Statistics.Saves));
    }

    [Fact]
    public async Task A_save_of_a_session_being_written_waits_for_that_batch_so_no_two_transactions_write_one_session()
    {
        var writer = new HeldWriter();
        var batcher = Batcher(writer, connections: 2);
        var first = batcher.SaveAsync("a", Row("a", 1), CancellationToken.None);
        var writingA = await writer.NextAsync();

        // A connection is free, but "a" is in the batch being written: only "b" may go.
        var again = batcher.SaveAsync("a", Row("a", 2), CancellationToken.None);
        var b = batcher.SaveAsync("b", Row("b", 1), CancellationToken.None);
        var writingB = await writer.NextAsync();
        Assert.Equal(new[] { "b" }, writingB.Rows.Select(r => r.PersistenceId));
        writingB.Commit();
        await b;
        Assert.False(again.IsCompleted);

        writingA.Commit();
        await first;
        var writingAgain = await writer.NextAsync();
        Assert.Equal(new[] { ("a", 2L) }, writingAgain.Rows.Select(r => (r.PersistenceId, r.SequenceNr)));
        writingAgain.Commit();
        await again;
        Assert.Equal(2, batcher.Statistics.MostInFlight);
    }

    [Fact]
    public async Task A_failed_batch_fails_every_save_in_it_with_the_cause_and_the_next_batch_goes_on()
    {
        var writer = new HeldWriter();
        var batcher = Batcher(writer, connections: 1);
        var hold = batcher.SaveAsync("hold", Row("hold", 1), CancellationToken.None);
        var holding = await writer.NextAsync();
        var failing = Enumerable.Range(0, 5).Select(i => batcher.SaveAsync($"f{i}", Row($"f{i}", 1), CancellationToken.None)).ToArray();

        holding.Commit();
        await hold;
        (await writer.NextAsync()).Fail(new InvalidOperationException("relation \"sessions\" does not exist"));

        for (var i = 0; i < failing.Length; i++)
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => failing[i]);
            Assert.Contains($"could not save session 'f{i}'", e.Message, StringComparison.Ordinal);
            Assert.Contains("relation \"sessions\" does not exist", e.Message, StringComparison.Ordinal);
            Assert.Contains("batch of 5 save(s)", e.Message, StringComparison.Ordinal);
            Assert.Equal("relation \"sessions\" does not exist", e.InnerException!.Message);
        }

        var after = batcher.SaveAsync("f0", Row("f0", 2), CancellationToken.None);
        (await writer.NextAsync()).Commit();
        await after;
        Assert.Equal(new SaveBatchStatistics(Batches: 2, Rows: 2, Saves: 2, FailedBatches: 1, FailedSaves: 5, LargestBatch: 1, MostInFlight: 1), batcher.Statistics);
    }

    [Fact]
    public async Task Saves_beyond_the_queue_fail_at_once_naming_the_setting_while_every_connection_is_busy()
    {
        var writer = new HeldWriter();
        var batcher = new SaveBatcher(new StoreCallLimiter(1, maxQueued: 2, "the test store"), writers: 1, 256, 1 << 20, "the test store", writer.WriteAsync);
        var hold = batcher.SaveAsync("hold", Row("hold", 1), CancellationToken.None);
        var holding = await writer.NextAsync();
        var waiting = new[] { batcher.SaveAsync("a", Row("a", 1), CancellationToken.None), batcher.SaveAsync("b", Row("b", 1), CancellationToken.None) };

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.SaveAsync("c", Row("c", 1), CancellationToken.None));

        Assert.Contains("could not save session 'c'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Streaming:Store:MaxQueuedCalls", refused.Message, StringComparison.Ordinal);
        holding.Commit();
        (await writer.NextAsync()).Commit();
        await Task.WhenAll(waiting.Append(hold));
        Assert.Equal(3, batcher.Statistics.Saves);
    }

    [Fact]
    public async Task The_queue_bound_holds_with_one_writer_busy_though_connections_are_free()
    {
        var writer = new HeldWriter();
        var batcher = new SaveBatcher(new StoreCallLimiter(4, maxQueued: 1, "the test store"), writers: 1, 256, 1 << 20, "the test store", writer.WriteAsync);
        var hold = batcher.SaveAsync("hold", Row("hold", 1), CancellationToken.None);
        var holding = await writer.NextAsync();
        var waiting = batcher.SaveAsync("a", Row("a", 1), CancellationToken.None);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => batcher.SaveAsync("b", Row("b", 1), CancellationToken.None));

        Assert.Contains("could not save session 'b'", refused.Message, StringComparison.Ordinal);
        holding.Commit();
        (await writer.NextAsync()).Commit();
        await Task.WhenAll(hold, waiting);
    }

    [Fact]
    public async Task A_save_cancelled_while_it_waits_for_a_batch_is_not_written()
    {
        var writer = new HeldWriter();
        var batcher = Batcher(writer, connections: 1);
        var hold = batcher.SaveAsync("hold", Row("hold", 1), CancellationToken.None);
        var holding = await writer.NextAsync();
        using var cancel = new CancellationTokenSource();
        var cancelled = batcher.SaveAsync("gone", Row("gone", 1), cancel.Token);
        var kept = batcher.SaveAsync("kept", Row("kept", 1), CancellationToken.None);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        holding.Commit();
        var batch = await writer.NextAsync();
        Assert.Equal(new[] { "kept" }, batch.Rows.Select(r => r.PersistenceId));
        batch.Commit();
        await Task.WhenAll(hold, kept);
    }

    private static SaveBatcher Batcher(HeldWriter writer, int connections, int maxRows = 256, long maxBytes = 1 << 20) =>
        new(new StoreCallLimiter(connections, maxQueued: 1_000, "the test store"), writers: connections, maxRows, maxBytes, "the test store", writer.WriteAsync);

    private static SnapshotRow Row(string id, long sequenceNr, int bytes = 8, byte fill = 1) =>
        new(id, sequenceNr, 0, Enumerable.Repeat(fill, bytes).ToArray());

    /// <summary>A writer whose every batch waits until the test commits or fails it.</summary>
    private sealed class HeldWriter
    {
        private readonly Channel<Batch> _batches = Channel.CreateUnbounded<Batch>();

        public Task WriteAsync(IReadOnlyList<SnapshotRow> rows)
        {
            var batch = new Batch(rows);
            _batches.Writer.TryWrite(batch);
            return batch.Written.Task;
        }

        public ValueTask<Batch> NextAsync() => _batches.Reader.ReadAsync();
    }

    private sealed class Batch(IReadOnlyList<SnapshotRow> rows)
    {
        public IReadOnlyList<SnapshotRow> Rows { get; } = rows;

        public TaskCompletionSource Written { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Commit() => Written.SetResult();

        public void Fail(Exception cause) => Written.SetException(cause);
    }
}
