using Akka.Actor;
using Streaming.Persistence;

namespace Streaming.Host.Storage;

/// <summary>
/// The <c>Streaming:Store</c> settings: which store keeps the sessions, and where. SQLite takes a file path or a
/// Microsoft.Data.Sqlite connection string (default <see cref="DefaultSqliteFile"/>, relative to the current
/// directory); PostgreSQL takes an Npgsql connection string; memory takes none.
/// </summary>
/// <param name="Kind">The store.</param>
/// <param name="Sql">The database settings for SQLite and PostgreSQL; null for memory.</param>
public sealed record StoreSettings(StoreKind Kind, SqlStoreSettings? Sql)
{
    /// <summary>The SQLite file used when no connection string is given, relative to the current directory.</summary>
    public const string DefaultSqliteFile = "data/sessions.db";

    /// <summary>The default: SQLite in <see cref="DefaultSqliteFile"/> under the current directory.</summary>
    public static StoreSettings Default => new(StoreKind.Sqlite, SqlStoreSettings.Sqlite(DefaultSqliteFile));

    /// <summary>Sessions kept in memory only.</summary>
    public static StoreSettings Memory { get; } = new(StoreKind.Memory, null);

    /// <summary>
    /// The settings for <paramref name="kind"/> with <paramref name="connection"/> (null or empty: SQLite's default
    /// file; PostgreSQL requires one; memory ignores it).
    /// </summary>
    /// <exception cref="ArgumentException">The connection string is missing or not valid for the kind.</exception>
    public static StoreSettings Of(StoreKind kind, string? connection) => kind switch
    {
        StoreKind.Sqlite => new(kind, SqlStoreSettings.Sqlite(string.IsNullOrWhiteSpace(connection) ? DefaultSqliteFile : connection)),
        StoreKind.PostgreSql => new(kind, SqlStoreSettings.PostgreSql(string.IsNullOrWhiteSpace(connection)
            ? throw new ArgumentException("sql store: the PostgreSQL connection string is empty; expected one such as 'Host=127.0.0.1;Username=streaming;Password=...;Database=streaming'.")
            : connection)),
        _ => Memory,
    };

    /// <summary>For logs: the database (never a password), or memory.</summary>
    public string Describe() => Sql?.Describe() ?? "memory (they do not survive a restart)";

    /// <summary>Opens the store for <paramref name="model"/>'s sessions in <paramref name="system"/>.</summary>
    /// <exception cref="StoreUnavailableException">The database cannot be opened or reached.</exception>
    public async Task<ISnapshotStore> OpenAsync(ActorSystem system, ModelIdentity model, CancellationToken cancellationToken = default)
    {
        if (Sql is null)
        {
            return new InMemorySnapshotStore();
        }

        try
        {
            return await SqlSnapshotStore.OpenAsync(system, Sql, model, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            throw new StoreUnavailableException($"{e.Message} (Streaming:Store:Kind is {Kind}; check Streaming:Store:ConnectionString{(Kind == StoreKind.PostgreSql ? ", and that PostgreSQL runs: scripts/postgres.sh starts a local one" : "")})", e);
        }
    }
}
