namespace Streaming.Host.Storage;

/// <summary>Where <c>serve</c> keeps sessions (setting <c>Streaming:Store:Kind</c>).</summary>
public enum StoreKind
{
    /// <summary>A SQLite file (default <c>data/sessions.db</c>): sessions outlive a restart of this machine's server.</summary>
    Sqlite,

    /// <summary>A PostgreSQL database: sessions outlive restarts and are shared by every server that uses it.</summary>
    PostgreSql,

    /// <summary>Process memory: sessions survive a passivation, not a restart.</summary>
    Memory,
}
