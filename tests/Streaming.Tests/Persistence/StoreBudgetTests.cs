using Streaming.Persistence;

namespace Streaming.Tests.Persistence;

/// <summary>The store budget: how many connections a node takes, and what happens to the calls beyond it.</summary>
public sealed class StoreBudgetTests
{
    [Theory]
    [InlineData(100, 1, 32)]
    [InlineData(100, 3, 30)]
    [InlineData(100, 4, 22)]
    [InlineData(20, 3, 5)]
    [InlineData(500, 10, 32)]
    [InlineData(6, 5, 1)]
    public void A_node_takes_its_share_of_max_connections_after_a_reserve(int maxConnections, int nodes, int budget) =>
        Assert.Equal(budget, SqlStoreSettings.ConnectionBudget(maxConnections, nodes));

    [Fact]
    public async Task Calls_beyond_the_budget_wait_in_order_and_one_beyond_the_queue_fails_at_once_naming_the_setting()
    {
        var limiter = new StoreCallLimiter(connections: 2, maxQueued: 1, "the test store");
        var release = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        Task<int> Call(string id) => limiter.RunAsync(() =>
        {
            Interlocked.Increment(ref started);
            return release.Task;
        }, "save", id, CancellationToken.None);

        var first = Call("a");
        var second = Call("b");
        var third = Call("c");
        Assert.Equal(2, Volatile.Read(ref started));
        Assert.Equal(1, limiter.Waiting);

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => Call("d"));
        Assert.Contains("could not save session 'd'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Streaming:Store:MaxQueuedCalls", refused.Message, StringComparison.Ordinal);

        release.SetResult(7);
        var results = await Task.WhenAll(first, second, third);
        Assert.Equal(new[] { 7, 7, 7 }, results);
        Assert.Equal(3, started);
        Assert.Equal(0, limiter.Waiting);
    }

    [Theory]
    [InlineData(-1, 0, 1, "store budget (MaxConnections) is -1")]
    [InlineData(0, -1, 1, "MaxQueuedCalls is -1")]
    [InlineData(0, 0, 0, "Nodes is 0")]
    public void Bad_budget_settings_name_what_is_wrong(int connections, int queued, int nodes, string expected)
    {
        var settings = SqlStoreSettings.Sqlite("x.db") with { MaxConnections = connections, MaxQueuedCalls = queued, Nodes = nodes };
        Assert.Contains(expected, Assert.Throws<ArgumentException>(settings.Validate).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 1, "MaxBatchRows is 0; expected 1 to 8000")]
    [InlineData(8_001, 1, "MaxBatchRows is 8001; expected 1 to 8000")]
    [InlineData(1, 0, "MaxBatchBytes is 0")]
    public void Bad_batch_bounds_name_what_is_wrong(int rows, long bytes, string expected)
    {
        var settings = SqlStoreSettings.Sqlite("x.db") with { MaxBatchRows = rows, MaxBatchBytes = bytes };
        Assert.Contains(expected, Assert.Throws<ArgumentException>(settings.Validate).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_pool_of_a_postgresql_store_is_sized_to_its_budget()
    {
        var settings = SqlStoreSettings.PostgreSql("Host=db;Username=u;Password=p;Database=d") with { MaxConnections = 7 };
        Assert.Contains("Maximum Pool Size=7", settings.ToHocon(), StringComparison.Ordinal);
        // After an outage the plugin's open circuit breaker lets calls through again this soon.
        Assert.Contains("circuit-breaker.reset-timeout = 10s", settings.ToHocon(), StringComparison.Ordinal);
    }
}
