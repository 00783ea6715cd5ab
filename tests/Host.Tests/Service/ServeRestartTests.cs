using System.Diagnostics;
using Streaming;
using Streaming.Client;
using Streaming.Client.Protocol;

namespace Host.Tests.Service;

/// <summary>Sessions open at SIGTERM are saved to the store (SQLite or PostgreSQL) and resume, exactly, in the next process.</summary>
public sealed partial class ServeProcessTests
{
    [Theory]
    [InlineData("sqlite")]
    [InlineData("postgresql")]
    public async Task Sigterm_saves_open_sessions_to_the_store_and_a_restarted_serve_resumes_them_exactly(string kind)
    {
        var folder = Directory.CreateTempSubdirectory("serve-store-");
        var database = Path.Combine(folder.FullName, "sessions.db");
        var schema = $"serve_{Guid.NewGuid().ToString("N")[..16]}";
        string connection;
        if (kind == "sqlite")
        {
            connection = database;
        }
        else
        {
            // A schema of this test's own, first on the search path: the store's table is created there.
            await PostgresAsync($"CREATE SCHEMA {schema}");
            connection = $"{PostgresConnectionString};Search Path={schema}";
        }

        string[] store = ["--store", kind, "--store-connection", connection];
        try
        {
            int[] ids = [3, 17, 42, 5, 63, 0, 9, 11];
            float[] expectedNext;
            int answered;
            string firstOutput;
            using (var serve = Start(["serve", "--port", "0", .. store]))
            {
                var port = await ListeningPort(serve);
                await using var client = await StreamingClient.ConnectAsync("127.0.0.1", port);
                await client.OpenAsync("kept");
                foreach (var id in ids[..6])
                {
                    await client.PushAsync("kept", TokenInput.Id(id));
                }

                // What the next token must give after the restart: the same state, carried on in this process.
                await client.RestoreAsync("twin", await client.SnapshotAsync("kept"));
                expectedNext = (await client.PushAsync("twin", TokenInput.Id(ids[6]))).Output.ToArray();
                await client.CloseAsync("twin");

                // Tokens in flight at SIGTERM: those the server read are answered, the rest refused as not applied.
                await client.OpenAsync("busy");
                var inFlight = ids.Select(id => client.PushAsync("busy", TokenInput.Id(id))).ToList();
                await Terminate(serve);
                firstOutput = Output(serve);
                Assert.Equal(0, serve.ExitCode);
                Assert.Contains("2 open session(s) were snapshotted into the store", Output(serve), StringComparison.Ordinal);
                await Task.WhenAll(inFlight.Select(p => p.ContinueWith(_ => { }, TaskScheduler.Default)));
                answered = inFlight.TakeWhile(p => p.IsCompletedSuccessfully).Count();
                Assert.All(inFlight.Skip(answered), p => Assert.Equal(
                    SessionErrorCode.EngineStopped, Assert.IsType<StreamingClientException>(p.Exception!.InnerException).SessionCode));
            }

            Assert.Contains(kind == "sqlite" ? $"Sessions are saved to SQLite {database}" : "Sessions are saved to PostgreSQL", firstOutput, StringComparison.Ordinal);
            var rows = kind == "sqlite" ? await SqliteRowsAsync(database) : await PostgresAsync($"SELECT COUNT(*) FROM {schema}.streaming_sessions");
            Assert.True(rows == 2, $"{rows} row(s) stored; expected 2 ('kept' and 'busy')\n{firstOutput}");
            using (var restarted = Start(["serve", "--port", "0", .. store]))
            {
                var port = await ListeningPort(restarted);
                await using var client = await StreamingClient.ConnectAsync("127.0.0.1", port);
                var resumed = await client.PushAsync("kept", TokenInput.Id(ids[6]));
                Assert.Equal(7, resumed.Position);
                Assert.Equal(expectedNext, resumed.Output.ToArray());
                Assert.Equal(answered, (await client.SnapshotAsync("busy")).Position);
                var reopen = await Assert.ThrowsAsync<StreamingClientException>(() => client.OpenAsync("kept"));
                Assert.Equal(SessionErrorCode.SessionAlreadyOpen, reopen.SessionCode);
                await Terminate(restarted);
                Assert.Equal(0, restarted.ExitCode);
            }
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            folder.Delete(recursive: true);
            if (kind != "sqlite")
            {
                await PostgresAsync($"DROP SCHEMA IF EXISTS {schema} CASCADE");
            }
        }
    }

    /// <summary>RNN_TEST_POSTGRES, or the database scripts/setup.sh creates.</summary>
    private static string PostgresConnectionString =>
        Environment.GetEnvironmentVariable("RNN_TEST_POSTGRES") is { Length: > 0 } value
            ? value
            : "Host=127.0.0.1;Port=5432;Username=streaming;Password=streaming;Database=streaming_test";

    private static async Task<long> PostgresAsync(string sql)
    {
        await using var connection = new Npgsql.NpgsqlConnection(PostgresConnectionString);
        try
        {
            await connection.OpenAsync();
        }
        catch (Npgsql.NpgsqlException e)
        {
            Assert.Fail($"PostgreSQL is not reachable with RNN_TEST_POSTGRES or the default the set-up creates: {e.Message}. Run scripts/setup.sh, which installs and starts PostgreSQL and creates the test role and database.");
        }

        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<long> SqliteRowsAsync(string file)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={file}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM streaming_sessions";
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task Terminate(Process serve)
    {
        using (var kill = Process.Start("kill", ["-TERM", serve.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill!.WaitForExitAsync();
        }

        await serve.WaitForExitAsync(Guard());
    }
}
