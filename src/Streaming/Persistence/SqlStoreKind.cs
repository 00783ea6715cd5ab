namespace Streaming.Persistence;

/// <summary>The database a <see cref="SqlSnapshotStore"/> keeps sessions in.</summary>
public enum SqlStoreKind
{
    /// <summary>A SQLite file (Microsoft.Data.Sqlite): one machine, no server to run.</summary>
    Sqlite,

    /// <summary>A PostgreSQL database (Npgsql): shared by every engine of a cluster.</summary>
    PostgreSql,
}
