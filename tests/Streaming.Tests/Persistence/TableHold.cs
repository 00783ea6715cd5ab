using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;
using Streaming.Persistence;

namespace Streaming.Tests.Persistence;

/// <summary>
/// A transaction of the test's own that keeps every writer of a store's table waiting until it ends: on SQLite the
/// database's write lock (BEGIN IMMEDIATE), on PostgreSQL an EXCLUSIVE lock on the table (readers still read). A store
/// whose batch waits for it holds its connection meanwhile, so the saves that arrive queue behind that batch: which
/// saves share a batch then depends on the order they were made, not on timing.
/// </summary>
internal sealed class TableHold : IAsyncDisposable
{
    private readonly DbConnection _connection;
    private readonly DbTransaction _transaction;
    private bool _ended;

    private TableHold(DbConnection connection, DbTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    public static async Task<TableHold> StartAsync(SqlStoreSettings settings)
    {
        DbConnection connection = settings.Kind == SqlStoreKind.Sqlite ? new SqliteConnection(settings.ConnectionString) : new NpgsqlConnection(settings.ConnectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        var hold = new TableHold(connection, transaction);
        if (settings.Kind == SqlStoreKind.Sqlite)
        {
            // BEGIN IMMEDIATE took the write lock already; a write makes sure of it.
            await hold.ExecuteAsync($"DELETE FROM {settings.TableName} WHERE 0 = 1");
        }
        else
        {
            await hold.ExecuteAsync($"LOCK TABLE {settings.SchemaName}.{settings.TableName} IN EXCLUSIVE MODE");
        }

        return hold;
    }

    /// <summary>Runs a statement inside the holding transaction.</summary>
    public async Task ExecuteAsync(string sql)
    {
        await using var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Ends the hold, committing what was run inside it.</summary>
    public async Task CommitAsync()
    {
        _ended = true;
        await _transaction.CommitAsync();
        await DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_ended)
        {
            _ended = true;
            await _transaction.RollbackAsync();
        }

        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
