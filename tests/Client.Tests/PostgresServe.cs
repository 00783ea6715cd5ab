using Npgsql;
using Streaming.Client;

namespace Client.Tests;

/// <summary>
/// <c>serve</c> on the test PostgreSQL (scripts/postgres.sh; RNN_TEST_POSTGRES), in a schema of its own, whose table a
/// test takes away and brings back: every store call fails meanwhile, as in an outage. Before it starts, an earlier
/// <c>serve</c> on the same schema applied tokens 0 to 2 of session <see cref="Resumed"/> and saved it at SIGTERM, so
/// that session must be loaded from the store by its next operation.
/// </summary>
public sealed class PostgresServe : IAsyncLifetime
{
    /// <summary>The session saved by the earlier serve, at position 3.</summary>
    public const string Resumed = "resumed";

    /// <summary>The ids the earlier serve applied to <see cref="Resumed"/>, then the next one.</summary>
    public static readonly int[] Ids = "the quick brown fox".Select(c => c - 32).ToArray();

    private readonly string _schema = $"client_{Guid.NewGuid().ToString("N")[..16]}";
    private ServeProcess? _serve;

    public int Port => _serve!.Port;

    /// <summary>The outputs the earlier serve answered for tokens 0 to 2 of <see cref="Resumed"/>.</summary>
    public IReadOnlyList<float[]> ResumedOutputs { get; private set; } = [];

    /// <summary>The child's output so far.</summary>
    public string Output() => _serve?.Output() ?? "";

    private static string ConnectionString =>
        Environment.GetEnvironmentVariable("RNN_TEST_POSTGRES") is { Length: > 0 } value
            ? value
            : "Host=127.0.0.1;Port=5432;Username=streaming;Password=streaming;Database=streaming_test";

    private string[] Store => ["--store", "postgresql", "--store-connection", $"{ConnectionString};Search Path={_schema}"];

    public async Task InitializeAsync()
    {
        await ExecuteAsync($"CREATE SCHEMA {_schema}");
        var first = new ServeProcess(Store);
        await first.InitializeAsync();
        await using (var client = await StreamingClient.ConnectAsync("127.0.0.1", first.Port))
        {
            await client.OpenAsync(Resumed);
            var outputs = new List<float[]>();
            for (var t = 0; t < 3; t++)
            {
                outputs.Add((await client.PushAsync(Resumed, TokenInput.Id(Ids[t]), position: t)).Output.ToArray());
            }

            ResumedOutputs = outputs;
        }

        Assert.True(await first.StopAsync() == 0, first.Output());
        await first.DisposeAsync();
        _serve = new ServeProcess(Store);
        await _serve.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (_serve is not null)
        {
            await _serve.DisposeAsync();
        }

        await ExecuteAsync($"DROP SCHEMA IF EXISTS {_schema} CASCADE");
    }

    /// <summary>The store's table goes away: every store call of the server fails until <see cref="TableBackAsync"/>.</summary>
    public Task TableAwayAsync() => ExecuteAsync($"ALTER TABLE {_schema}.streaming_sessions RENAME TO streaming_sessions_away");

    public Task TableBackAsync() => ExecuteAsync($"ALTER TABLE IF EXISTS {_schema}.streaming_sessions_away RENAME TO streaming_sessions");

    private static async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        try
        {
            await connection.OpenAsync();
        }
        catch (NpgsqlException e)
        {
            Assert.Fail($"PostgreSQL is not reachable with RNN_TEST_POSTGRES or the default the set-up creates: {e.Message}. Run scripts/setup.sh (or scripts/postgres.sh), which installs and starts PostgreSQL and creates the test role and database.");
        }

        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
