using System.Diagnostics;
using System.Text;
using Akka.Actor;
using Akka.Persistence;
using Npgsql;
using Streaming.Persistence;

namespace Streaming.Benchmarks;

/// <summary>
/// Checkpoint throughput of the SQL stores per connection of the store budget: sessions' snapshots (LSTM 2 x 256:
/// 4 KiB of state each) saved all at once, on SQLite (a temporary file) and on PostgreSQL (RNN_TEST_POSTGRES, or the
/// tests' database, in a schema of its own), by budget (1, 2, 4, 8 connections) and write path: the plugin's, as the
/// store saved before batching (a SaveSnapshot, then a DeleteSnapshots of the older rows: two transactions, at most
/// one save per connection at once); the store with a batch size of 1 (one transaction per save); and the store as
/// configured by default (batches of up to 256 rows). Then 10,000 sessions checkpointing at once: how long, in how
/// many transactions, on how many connections. Every figure is the steady state (each session already has a row).
/// </summary>
internal static class CheckpointScenario
{
    private const string DefaultPostgres = "Host=127.0.0.1;Port=5432;Username=streaming;Password=streaming;Database=streaming_test";

    private enum WritePath
    {
        Plugin,
        BatchOfOne,
        Batched,
    }

    public static string Run(bool quick)
    {
        var sessions = quick ? 256 : 1024;
        var many = quick ? 2_000 : 10_000;
        var text = new StringBuilder();
        var folder = Path.Combine(Path.GetTempPath(), "streaming-bench-" + Guid.NewGuid().ToString("N")[..8]);
        var schema = "bench_" + Guid.NewGuid().ToString("N")[..12];
        var postgres = Environment.GetEnvironmentVariable("RNN_TEST_POSTGRES") is { Length: > 0 } value ? value : DefaultPostgres;
        var table = 0;
        SqlStoreSettings Sqlite(int connections) => SqlStoreSettings.Sqlite(Path.Combine(folder, $"t{++table}.db")) with { MaxConnections = connections };
        SqlStoreSettings Postgres(int connections) => SqlStoreSettings.PostgreSql(postgres) with { SchemaName = schema, TableName = $"t{++table}", MaxConnections = connections };
        try
        {
            text.AppendLine($"### Checkpoints: {sessions} sessions of LSTM 2 x 256 (4 KiB of state) saved at once, by store budget and write path");
            text.AppendLine();
            text.AppendLine("| store | connections | write path | checkpoints/s | per connection | transactions | checkpoints per transaction | ms per checkpoint per connection |");
            text.AppendLine("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var (kind, settings) in new (string, Func<int, SqlStoreSettings>)[] { ("SQLite", Sqlite), ("PostgreSQL", Postgres) })
            {
                foreach (var connections in new[] { 1, 2, 4, 8 })
                {
                    foreach (var path in Enum.GetValues<WritePath>())
                    {
                        text.AppendLine(Row(kind, settings(connections), sessions, path));
                    }
                }
            }

            text.AppendLine();
            text.AppendLine($"### {many:N0} sessions checkpointing at once (4 KiB each)");
            text.AppendLine();
            text.AppendLine("| store | budget | write path | seconds | checkpoints/s | transactions | largest | connections used at once |");
            text.AppendLine("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |");
            foreach (var (kind, settings) in new (string, Func<int, SqlStoreSettings>)[] { ("SQLite", Sqlite), ("PostgreSQL", Postgres) })
            {
                foreach (var connections in new[] { 1, 2, 4 })
                {
                    text.AppendLine(ManyRow(kind, settings(connections), many, WritePath.Batched));
                }

                text.AppendLine(ManyRow(kind, settings(4), many, WritePath.BatchOfOne));
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

    private static string Row(string kind, SqlStoreSettings settings, int sessions, WritePath path)
    {
        var (seconds, batches, _) = Measure(settings, sessions, path);
        var rate = sessions / seconds;
        var connections = settings.MaxConnections;
        var transactions = batches ?? 2L * sessions;
        return $"| {kind} | {connections} | {Describe(path)} | {rate:N0} | {rate / connections:N0} | {transactions:N0} | {(double)sessions / transactions:F1} | {seconds * 1000 * connections / sessions:F2} |";
    }

    private static string ManyRow(string kind, SqlStoreSettings settings, int sessions, WritePath path)
    {
        var (seconds, batches, statistics) = Measure(settings, sessions, path);
        return $"| {kind} | {settings.MaxConnections} | {Describe(path)} | {seconds:F2} | {sessions / seconds:N0} | {batches:N0} | {statistics!.LargestBatch} | {statistics.MostInFlight} |";
    }

    private static string Describe(WritePath path) => path switch
    {
        WritePath.Plugin => "plugin, one save a call (before)",
        WritePath.BatchOfOne => "store, batch size 1",
        _ => "store, batched (up to 256)",
    };

    // Two rounds of saves of every session; the second, when every session has its row, is timed. Returns its seconds,
    // the transactions of the second round (null for the plugin's path: two a save), and the store's statistics.
    private static (double Seconds, long? Batches, SaveBatchStatistics? Statistics) Measure(SqlStoreSettings settings, int sessions, WritePath path)
    {
        using var system = ActorSystem.Create("checkpoints", PipelineScenario.Quiet);
        try
        {
            var model = new ModelIdentity("bench", new string('a', 64));
            var store = SqlSnapshotStore.OpenAsync(system, path == WritePath.BatchOfOne ? settings with { MaxBatchRows = 1 } : settings, model).GetAwaiter().GetResult();
            var random = new Random(3);
            var layers = Enumerable.Range(0, 2).Select(_ => new LayerState(Values(random, 256), Values(random, 256))).ToArray();
            var ids = Enumerable.Range(0, sessions).Select(i => $"session-{i}").ToArray();
            Func<string, StoredSession, Task> save = path == WritePath.Plugin ? ThroughPlugin(system, store) : (id, stored) => store.SaveAsync(id, stored);
            SaveAll(save, ids, model, layers, position: 1);
            var before = store.SaveBatches;
            var clock = Stopwatch.StartNew();
            SaveAll(save, ids, model, layers, position: 2);
            var seconds = clock.Elapsed.TotalSeconds;
            var after = store.SaveBatches;
            return (seconds, path == WritePath.Plugin ? null : after.Batches - before.Batches, after);
        }
        finally
        {
            system.Terminate().Wait();
        }
    }

    // The store's save before it batched: SaveSnapshot, then DeleteSnapshots of the older rows, both asked of the
    // plugin, one save at a time per connection of the budget.
    private static Func<string, StoredSession, Task> ThroughPlugin(ActorSystem system, SqlSnapshotStore store)
    {
        var plugin = Akka.Persistence.Persistence.Instance.Apply(system).SnapshotStoreFor(store.PluginId);
        var budget = new SemaphoreSlim(store.Settings.MaxConnections);
        var timeout = store.Settings.Timeout;
        return async (id, stored) =>
        {
            var persistenceId = store.PersistenceIdOf(id);
            var sequenceNr = DateTime.UtcNow.Ticks;
            await budget.WaitAsync();
            try
            {
                if (await plugin.Ask<object>(new SaveSnapshot(new SnapshotMetadata(persistenceId, sequenceNr, DateTime.UtcNow), stored.ToBytes()), timeout) is not SaveSnapshotSuccess)
                {
                    throw new InvalidOperationException($"the plugin did not save {id}");
                }

                if (await plugin.Ask<object>(new DeleteSnapshots(persistenceId, new SnapshotSelectionCriteria(sequenceNr - 1)), timeout) is not DeleteSnapshotsSuccess)
                {
                    throw new InvalidOperationException($"the plugin did not delete the older snapshots of {id}");
                }
            }
            finally
            {
                budget.Release();
            }
        };
    }

    private static void SaveAll(Func<string, StoredSession, Task> save, string[] ids, ModelIdentity model, LayerState[] layers, long position)
    {
        var stored = new StoredSession(new SessionSnapshot(model, position, layers), DateTimeOffset.UtcNow);
        Task.WhenAll(ids.Select(id => save(id, stored))).GetAwaiter().GetResult();
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
