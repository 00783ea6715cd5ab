using Microsoft.Data.Sqlite;
using Npgsql;
using Streaming.Persistence;

namespace Streaming.Tests.Persistence;

/// <summary>The databases the store tests run on: a temporary SQLite file, or a fresh schema in the test PostgreSQL.</summary>
internal static class StoreDatabases
{
    /// <summary>The role and database scripts/setup.sh (scripts/postgres.sh) creates.</summary>
    public const string DefaultPostgres = "Host=127.0.0.1;Port=5432;Username=streaming;Password=streaming;Database=streaming_test";

    /// <summary>RNN_TEST_POSTGRES, or the database scripts/setup.sh creates.</summary>
    public static string PostgresConnectionString =>
        Environment.GetEnvironmentVariable("RNN_TEST_POSTGRES") is { Length: > 0 } value ? value : DefaultPostgres;

    /// <summary>A unique lower-case name for a table or schema.</summary>
    public static string UniqueName(string prefix) => $"{prefix}_{Guid.NewGuid().ToString("N")[..16]}";

    /// <summary>Opens the test database, failing (never skipping) with what to do when it cannot be reached.</summary>
    public static async Task RequirePostgresAsync()
    {
        try
        {
            var connection = new NpgsqlConnection(PostgresConnectionString);
            await using (connection)
            {
                await connection.OpenAsync();
            }
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            Assert.Fail($"PostgreSQL is not reachable with RNN_TEST_POSTGRES (or the default '{DefaultPostgres}', password hidden below): {e.Message}. Run scripts/setup.sh, which installs and starts PostgreSQL and creates the test role and database.");
        }
    }

    /// <summary>Runs a scalar query on the store's database.</summary>
    public static async Task<long> ScalarAsync(SqlStoreSettings settings, string sql)
    {
        if (settings.Kind == SqlStoreKind.Sqlite)
        {
            await using var connection = new SqliteConnection(settings.ConnectionString);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            await using var connection = new NpgsqlConnection(settings.ConnectionString);
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>The store's table, qualified by its schema on PostgreSQL.</summary>
    public static string Table(SqlStoreSettings settings) => (settings.SchemaName is null ? "" : settings.SchemaName + ".") + settings.TableName;

    /// <summary>Rows in the store's table.</summary>
    public static Task<long> RowsAsync(SqlStoreSettings settings) => ScalarAsync(settings, $"SELECT COUNT(*) FROM {Table(settings)}");

    /// <summary>Rows in the store's table for one persistence id.</summary>
    public static Task<long> RowsAsync(SqlStoreSettings settings, string persistenceId) =>
        ScalarAsync(settings, $"SELECT COUNT(*) FROM {Table(settings)} WHERE persistence_id = '{persistenceId.Replace("'", "''", StringComparison.Ordinal)}'");

    /// <summary>Drops what a test created: its schema (PostgreSQL) or its file (SQLite).</summary>
    public static async Task DropAsync(SqlStoreSettings settings)
    {
        if (settings.Kind == SqlStoreKind.Sqlite)
        {
            SqliteConnection.ClearAllPools();
            var folder = Path.GetDirectoryName(settings.SqliteFile)!;
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        else if (settings.SchemaName is not null)
        {
            await ScalarAsync(settings, $"DROP SCHEMA IF EXISTS {settings.SchemaName} CASCADE; SELECT 0");
        }
    }
}
