using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Streaming.Persistence;

/// <summary>
/// Writes batches of snapshots into Akka.Persistence.Sql's snapshot table (the plugin's default table mapping, created
/// by the plugin): columns <c>persistence_id</c>, <c>sequence_number</c> (together the primary key), <c>created</c>
/// (<see cref="DateTime.Ticks"/>), <c>snapshot</c> (the payload), <c>manifest</c> and <c>serializer_id</c>. Each batch is
/// one transaction on one connection: one multi-row upsert of the new rows, then one delete of the older rows of the
/// same persistence ids, so a batch is written whole or not at all, and the table keeps one row per session. The plugin
/// reads those rows as its own: they carry the serializer id and manifest its serializer gives the payload's type.
/// </summary>
internal sealed class SnapshotTable
{
    // Each row binds four parameters; PostgreSQL allows 65,535 in a statement and SQLite 32,766.
    internal const int MaxRowsPerStatement = 8_000;

    private readonly SqlStoreSettings _settings;
    private readonly string _table;
    private readonly int _serializerId;
    private readonly string _manifest;

    /// <param name="settings">The database and table (with the budget resolved: the Npgsql pool is the plugin's).</param>
    /// <param name="serializerId">The serializer id the plugin records for the payload's type.</param>
    /// <param name="manifest">The manifest the plugin records for it.</param>
    public SnapshotTable(SqlStoreSettings settings, int serializerId, string manifest)
    {
        _settings = settings;
        _serializerId = serializerId;
        _manifest = manifest;
        // Quoted as linq2db quotes them when it creates the table (a mixed-case name keeps its case on PostgreSQL).
        _table = settings.SchemaName is null ? Quote(settings.TableName) : Quote(settings.SchemaName) + "." + Quote(settings.TableName);
    }

    /// <summary>
    /// Writes <paramref name="rows"/> (at most <see cref="MaxRowsPerStatement"/>, no persistence id twice) in one
    /// transaction: each row inserted (or replacing the row of the same key), then every row of the same persistence
    /// ids with a lower sequence number deleted. Throws the driver's exception when anything fails; nothing is then
    /// written.
    /// </summary>
    public async Task WriteAsync(IReadOnlyList<SnapshotRow> rows)
    {
        System.Diagnostics.Debug.Assert(rows.Count is > 0 and <= MaxRowsPerStatement, "a batch has 1 to MaxRowsPerStatement rows");
        var connection = Connect();
        await using (connection.ConfigureAwait(false))
        {
            var seconds = (int)Math.Ceiling(_settings.Timeout.TotalSeconds);
            if (connection is SqliteConnection sqlite)
            {
                // How long BEGIN IMMEDIATE waits for another writer's lock.
                sqlite.DefaultTimeout = seconds;
            }

            await connection.OpenAsync().ConfigureAwait(false);
            // SQLite: BEGIN IMMEDIATE (Microsoft.Data.Sqlite's default), so the write lock is taken up front and a busy
            // database is waited for (up to the command timeout) rather than failing the upgrade of a read lock.
            var transaction = await connection.BeginTransactionAsync().ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var command = connection.CreateCommand();
                await using (command.ConfigureAwait(false))
                {
                    command.Transaction = transaction;
                    command.CommandTimeout = seconds;
                    Bind(command, rows);
                    await command.ExecuteNonQueryAsync().ConfigureAwait(false);
                }

                await transaction.CommitAsync().ConfigureAwait(false);
            }
        }
    }

    private DbConnection Connect() => _settings.Kind == SqlStoreKind.Sqlite
        ? new SqliteConnection(_settings.ConnectionString)
        : new NpgsqlConnection(_settings.PluginConnectionString);

    // The statement text depends only on the row count; the values are all parameters.
    private void Bind(DbCommand command, IReadOnlyList<SnapshotRow> rows)
    {
        var sql = new StringBuilder();
        sql.Append(CultureInfo.InvariantCulture, $"INSERT INTO {_table} (persistence_id, sequence_number, created, snapshot, manifest, serializer_id) VALUES ");
        for (var i = 0; i < rows.Count; i++)
        {
            sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@i{i}, @s{i}, @c{i}, @p{i}, @manifest, @serializer)");
            Add(command, $"@i{i}", rows[i].PersistenceId);
            Add(command, $"@s{i}", rows[i].SequenceNr);
            Add(command, $"@c{i}", rows[i].CreatedTicks);
            Add(command, $"@p{i}", rows[i].Payload);
        }

        sql.AppendLine(" ON CONFLICT (persistence_id, sequence_number) DO UPDATE SET created = excluded.created, snapshot = excluded.snapshot, manifest = excluded.manifest, serializer_id = excluded.serializer_id;");
        Add(command, "@manifest", _manifest);
        Add(command, "@serializer", _serializerId);

        // One delete for the whole batch: each persistence id keeps only its row of this batch (and any later one).
        sql.Append("WITH saved (persistence_id, sequence_number) AS (VALUES ");
        for (var i = 0; i < rows.Count; i++)
        {
            sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"(@i{i}, @s{i})");
        }

        sql.Append(CultureInfo.InvariantCulture, $") DELETE FROM {_table} WHERE persistence_id IN (SELECT persistence_id FROM saved)");
        sql.Append(CultureInfo.InvariantCulture, $" AND sequence_number < (SELECT saved.sequence_number FROM saved WHERE saved.persistence_id = {_table}.persistence_id);");
        // Identifiers are checked plain names (SqlStoreSettings.Validate), quoted; every value is a parameter.
#pragma warning disable CA2100
        command.CommandText = sql.ToString();
#pragma warning restore CA2100
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private static string Quote(string identifier) => "\"" + identifier + "\"";
}
