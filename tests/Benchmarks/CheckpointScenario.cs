using System.Diagnostics;
using System.Text;
using Akka.Actor;
using Npgsql;
using Streaming.Persistence;

namespace Streaming.Benchmarks;

/// <summary>
/// Checkpoint throughput of the SQL stores per connection of the store budget: sessions' snapshots (LSTM 2 x 256:
/// 4 KiB of state each) saved all at once through a <see cref="SqlSnapshotStore"/> whose budget is 1, 2, 4 or 8
/// connections, on SQLite (a temporary file) and on PostgreSQL (RNN_TEST_POSTGRES, or the tests' database, in a
/// schema of its own). Each save is the plugin's insert-or-replace transaction plus the deletion of the session's
/// older snapshot; the figure is the steady state (every session already has a row).
/// </summary>
internal static class CheckpointScenario
{
    private const string DefaultPostgres = "Host=127.0.0.1;Port=5432;Username=streaming;Password=streaming;Database=streaming_test";

    public static string Run(bool quick)
    {
        var sessions = quick ? 256 : 1024;
        var text = new StringBuilder();
        text.AppendLine($"### Checkpoints: {sessions} sessions of LSTM 2 x 256 (4 KiB of state) saved at once, by store budget");
        text.AppendLine();
        text.AppendLine("| store | connections | checkpoints/s | per connection | ms per checkpoint (mean) |");
        text.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        var folder = Path.Combine(Path.GetTempPath(), "streaming-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var schema = "bench_" + Guid.NewGuid().ToString("N")[..12];
        var postgres = Environment.GetEnvironmentVariable("RNN_TEST_POSTGRES") is { Length: > 0 } value ? value : DefaultPostgres;
        try
        {
            foreach (var connections in new[] { 1, 2, 4, 8 })
            {
                var sqlite = SqlStoreSettings.Sqlite(Path.Combine(folder, $"budget{connections}.db")) with { MaxConnections = connections };
                text.AppendLine(Row("SQLite", sqlite, sessions));
            }

            foreach (var connections in new[] { 1, 2, 4, 8 })
            {
                var pg = SqlStoreSettings.PostgreSql(postgres) with { SchemaName = schema, TableName = $"budget{connections}", MaxConnections = connections };
                text.AppendLine(Row("PostgreSQL", pg, sessions));
            }
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(folder, recursive: true);
            }

            DropSchema(postgres, schema);
        }

        return text.ToString();
    }

    private static string Row(string kind, SqlStoreSettings settings, int sessions)
    {
        using var system = ActorSystem.Create("checkpoints", PipelineScenario.Quiet);
        try
        {
            var model = new ModelIdentity("bench", new string('a', 64));
            var store = SqlSnapshotStore.OpenAsync(system, settings, model).GetAwaiter().GetResult();
            var random = new Random(3);
            var layers = Enumerable.Range(0, 2).Select(_ => new LayerState(Values(random, 256), Values(random, 256))).ToArray();
            var ids = Enumerable.Range(0, sessions).Select(i => $"session-{i}").ToArray();
            SaveAll(store, ids, model, layers, position: 1);
            var clock = Stopwatch.StartNew();
            SaveAll(store, ids, model, layers, position: 2);
            var seconds = clock.Elapsed.TotalSeconds;
            var rate = sessions / seconds;
            var connections = store.Settings.MaxConnections;
            return $"| {kind} | {connections} | {rate:N0} | {rate / connections:N0} | {seconds * 1000 * connections / sessions:F2} |";
        }
        finally
        {
            system.Terminate().Wait();
        }
    }

    private static void SaveAll(SqlSnapshotStore store, string[] ids, ModelIdentity model, LayerState[] layers, long position)
    {
        var stored = new StoredSession(new SessionSnapshot(model, position, layers), DateTimeOffset.UtcNow);
        Task.WhenAll(ids.Select(id => store.SaveAsync(id, stored))).GetAwaiter().GetResult();
    }

    private static float[] Values(Random random, int count) => Enumerable.Range(0, count).Select(_ => (float)random.NextDouble()).ToArray();

    private static void DropSchema(string connectionString, string schema)
    {
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
#pragma warning disable CA2100 // a generated plain identifier
            command.CommandText = $"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE";
#pragma warning restore CA2100
            command.ExecuteNonQuery();
        }
        catch (NpgsqlException e)
        {
            Console.Error.WriteLine($"checkpoints: could not drop the benchmark's schema {schema}: {e.Message}");
        }
    }
}
