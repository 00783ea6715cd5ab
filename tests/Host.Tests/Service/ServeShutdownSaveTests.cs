using System.Diagnostics;
using Streaming.Client;

namespace Host.Tests.Service;

/// <summary>
/// A single <c>serve</c> stopped with SIGTERM while its PostgreSQL table is away: it retries the sessions' saves until
/// ShutdownSeconds, and exits 0 when the table is back in time, 3 (as a cluster node whose hand-offs could not be saved)
/// when it is not.
/// </summary>
public sealed partial class ServeProcessTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Sigterm_while_the_store_is_down_retries_the_saves_until_ShutdownSeconds_and_exits_3_only_if_the_store_stays_down(bool storeReturns)
    {
        var schema = $"serve_{Guid.NewGuid().ToString("N")[..16]}";
        await PostgresAsync($"CREATE SCHEMA {schema}");
        var table = $"{schema}.streaming_sessions";
        string[] store = ["--store", "postgresql", "--store-connection", $"{PostgresConnectionString};Search Path={schema}"];
        // Checkpoints off, so that only the shutdown's saves meet the missing table.
        var settings = new Dictionary<string, string?>
        {
            ["STREAMING_SHUTDOWNSECONDS"] = storeReturns ? "60" : "3",
            ["STREAMING_CHECKPOINTSECONDS"] = "0",
        };
        try
        {
            using var serve = Start(["serve", "--port", "0", .. store], settings);
            var port = await ListeningPort(serve);
            await using (var client = await StreamingClient.ConnectAsync("127.0.0.1", port))
            {
                foreach (var id in new[] { "a", "b" })
                {
                    await client.OpenAsync(id);
                    await client.PushAsync(id, TokenInput.Id(5));
                }
            }

            await PostgresAsync($"ALTER TABLE {table} RENAME TO streaming_sessions_away");
            using (var kill = Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill!.WaitForExitAsync();
            }

            if (storeReturns)
            {
                // Once the first refusal is logged the shutdown is retrying; the table comes back well within its 60 s.
                await UntilLogged(serve, "Shutdown: the store refused to save session ");
                await PostgresAsync($"ALTER TABLE {schema}.streaming_sessions_away RENAME TO streaming_sessions");
            }

            await serve.WaitForExitAsync(Guard());
            var output = Output(serve);
            if (storeReturns)
            {
                Assert.True(serve.ExitCode == 0, $"serve exited with {serve.ExitCode}:\n{output}");
                Assert.Contains("Shutdown: 2 session(s) whose save the store had refused were saved on a later attempt; none was lost.", output, StringComparison.Ordinal);
                Assert.Contains("2 open session(s) were snapshotted into the store", output, StringComparison.Ordinal);
                Assert.Equal(2, await PostgresAsync($"SELECT COUNT(*) FROM {table}"));
            }
            else
            {
                Assert.True(serve.ExitCode == 3, $"serve exited with {serve.ExitCode}:\n{output}");
                Assert.Contains("for up to 3 s after the shutdown began", output, StringComparison.Ordinal);
                Assert.Contains("Shutdown: 2 session(s) could not be saved into the store within 3 s", output, StringComparison.Ordinal);
                Assert.Contains("Stopped; of 2 open session(s), 2 could not be saved into the store within 3 s (ShutdownSeconds)", output, StringComparison.Ordinal);
                Assert.Contains("serve: stopped, but 2 session(s) could not be saved into the store", output, StringComparison.Ordinal);
            }
        }
        finally
        {
            await PostgresAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
        }
    }

    // Waits for a line of serve's log (a guard against a hang, not a timing assertion).
    private static async Task UntilLogged(Process serve, string text)
    {
        var guard = Guard();
        while (!Output(serve).Contains(text, StringComparison.Ordinal))
        {
            Assert.False(serve.HasExited || guard.IsCancellationRequested, $"serve did not log '{text}':\n{Output(serve)}");
            await Task.Delay(20, CancellationToken.None);
        }
    }
}
