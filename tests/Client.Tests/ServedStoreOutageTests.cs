using Streaming.Client;
using Streaming.Client.Protocol;

namespace Client.Tests;

/// <summary>
/// The client's StoreFailed retry against a real <c>serve</c> on PostgreSQL whose table goes away and comes back: what a
/// store outage looks like to an application that uses the client with its defaults. The tests of this class run one
/// after another (xunit), each bringing the table back before it ends.
/// </summary>
public sealed class ServedStoreOutageTests(PostgresServe serve) : IClassFixture<PostgresServe>
{
    private static readonly int[] Ids = PostgresServe.Ids;

    [Fact]
    public async Task Through_a_store_outage_refused_requests_are_answered_in_order_once_the_store_is_back_and_resident_sessions_are_answered_throughout()
    {
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", serve.Port);
        await client.OpenAsync("resident");
        Assert.Equal(1, (await client.PushAsync("resident", TokenInput.Id(Ids[0]))).Position);
        List<Task<TokenReply>> resumed;
        Task open;
        List<Task<TokenReply>> fresh;
        await serve.TableAwayAsync();
        try
        {
            // The resumed session must be loaded, and a new one too (the store may hold it): both are refused and retried.
            // Token 2 was applied by the earlier serve (its answer lost, say): it is resent with its position.
            resumed = [client.PushAsync(PostgresServe.Resumed, TokenInput.Id(Ids[2]), position: 2), client.PushAsync(PostgresServe.Resumed, TokenInput.Id(Ids[3]), position: 3)];
            open = client.OpenAsync("fresh");
            fresh = Ids[..4].Select(id => client.PushAsync("fresh", TokenInput.Id(id))).ToList();
            await Until(() => client.Statistics.StoreFailedResends >= 4, client);

            // A session resident on the server is not held: its tokens are answered during the outage.
            for (var t = 1; t < 4; t++)
            {
                Assert.Equal(t + 1, (await client.PushAsync("resident", TokenInput.Id(Ids[t]))).Position);
            }

            Assert.False(resumed.Concat(fresh).Any(t => t.IsCompleted) || open.IsCompleted, "a request completed while the store's table was away");
            Assert.Equal(2, client.Statistics.SessionsRetrying);
        }
        finally
        {
            await serve.TableBackAsync();
        }

        // The server's circuit breaker lets a call through again within about 10 s of the table's return.
        var original = await resumed[0];
        Assert.Equal(3, original.Position);
        Assert.Equal(serve.ResumedOutputs[2], original.Output.ToArray());
        var next = await resumed[1];
        await open;
        var freshReplies = await Task.WhenAll(fresh);

        await client.OpenAsync("reference");
        var expected = await client.ReplayAsync("reference", Ids[..4].Select(TokenInput.Id).ToList());
        Assert.Equal(4, next.Position);
        AssertClose(expected.Outputs[3], next.Output);
        Assert.Equal([1L, 2L, 3L, 4L], freshReplies.Select(r => r.Position));
        for (var t = 0; t < 4; t++)
        {
            AssertClose(expected.Outputs[t], freshReplies[t].Output);
        }

        Assert.Equal(4, (await client.SnapshotAsync("fresh")).Position);
        await Until(() => client.Statistics.SessionsRetrying == 0, client);
        Assert.Equal((0L, 0L), (client.Statistics.StoreFailedGiveUps, client.Statistics.StoreFailedNotResent));
    }

    [Fact]
    public async Task A_store_that_stays_down_past_the_deadline_fails_the_call_with_the_servers_last_StoreFailed()
    {
        var impatient = new StreamingClientOptions { StoreFailedRetry = StoreFailedRetry.Default with { GiveUpAfter = TimeSpan.FromSeconds(1) } };
        await using var client = await StreamingClient.ConnectAsync("127.0.0.1", serve.Port, impatient);
        StreamingClientException error;
        await serve.TableAwayAsync();
        try
        {
            error = await Assert.ThrowsAsync<StreamingClientException>(() => client.OpenAsync("late"));
        }
        finally
        {
            await serve.TableBackAsync();
        }

        Assert.Equal((SessionErrorCode.StoreFailed, "late"), (error.SessionCode, error.Session));
        Assert.True(error.Retries >= 1, $"resent {error.Retries} time(s)");
        Assert.Contains("gave up: StoreFailedRetry.GiveUpAfter is 1 s", error.Message, StringComparison.Ordinal);
        Assert.False(error.ConnectionLost);
        Assert.Equal(1, client.Statistics.StoreFailedGiveUps);

        // Nothing was applied, and the session can be opened once the store answers (retried while its breaker resets).
        await using var patient = await StreamingClient.ConnectAsync("127.0.0.1", serve.Port);
        await patient.OpenAsync("late");
        Assert.Equal(0, (await patient.SnapshotAsync("late")).Position);
    }

    private static void AssertClose(ReadOnlyMemory<float> expected, ReadOnlyMemory<float> actual) =>
        Assert.Equal(expected.ToArray(), actual.ToArray(), (x, y) => Math.Abs(x - y) <= 1e-5f);

    // Waits for what the client reports (a guard against a hang, not a timing assertion).
    private async Task Until(Func<bool> condition, StreamingClient client)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (!condition())
        {
            Assert.False(guard.IsCancellationRequested, $"gave up waiting; the client reports {client.Statistics}; serve's output:\n{serve.Output()}");
            await Task.Delay(10, CancellationToken.None);
        }
    }
}
