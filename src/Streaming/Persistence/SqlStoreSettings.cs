using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Streaming.Persistence;

/// <summary>
/// Where and how a <see cref="SqlSnapshotStore"/> keeps sessions: the database kind, its connection string, and the
/// table (and, on PostgreSQL, schema) that holds one row per session. The table and schema are created on first use.
/// </summary>
public sealed partial record SqlStoreSettings
{
    /// <summary>The table used when none is given.</summary>
    public const string DefaultTableName = "streaming_sessions";

    /// <summary>The linq2db provider name Akka.Persistence.Sql uses for SQLite through Microsoft.Data.Sqlite.</summary>
    public const string SqliteProviderName = "SQLite.MS";

    /// <summary>The linq2db provider name Akka.Persistence.Sql uses for PostgreSQL (15 and newer) through Npgsql.</summary>
    public const string PostgreSqlProviderName = "PostgreSQL.15";

    /// <summary>Settings for <paramref name="kind"/> with <paramref name="connectionString"/> and the default table.</summary>
    /// <exception cref="ArgumentException">The connection string is empty or not one the database's driver reads.</exception>
    public SqlStoreSettings(SqlStoreKind kind, string connectionString)
    {
        Kind = kind;
        ConnectionString = connectionString;
        Validate();
    }

    /// <summary>The database kind.</summary>
    public SqlStoreKind Kind { get; init; }

    /// <summary>The ADO.NET connection string (Microsoft.Data.Sqlite's or Npgsql's).</summary>
    public string ConnectionString { get; init; }

    /// <summary>The table holding the sessions (default <see cref="DefaultTableName"/>): letters, digits and '_', at most 63.</summary>
    public string TableName { get; init; } = DefaultTableName;

    /// <summary>PostgreSQL only: the schema of <see cref="TableName"/>, created when missing; null (the default) uses the connection's search path.</summary>
    public string? SchemaName { get; init; }

    /// <summary>How long one load, save or delete may wait for the database before it fails (default 30 s).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the plugin's circuit breaker, once open (after repeated failures every call fails at once with
    /// "Circuit Breaker is open"), waits before it lets a call try the database again (default 10 s): after an outage,
    /// checkpoints and loads resume within this long of the database's return.
    /// </summary>
    public TimeSpan BreakerResetTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The store budget: database connections this node's store holds at most (calls beyond wait in order, and the
    /// Npgsql pool's <c>Maximum Pool Size</c> is set to it). 0 (the default) derives it when the store opens: on
    /// PostgreSQL <see cref="ConnectionBudget"/> of the server's <c>max_connections</c> and <see cref="Nodes"/>, on
    /// SQLite <see cref="DefaultSqliteConnections"/> (it has one writer at a time anyway).
    /// </summary>
    public int MaxConnections { get; init; }

    /// <summary>Calls that may wait for a connection of the budget (default 65,536); one more fails at once rather than queueing without bound.</summary>
    public int MaxQueuedCalls { get; init; } = 65_536;

    /// <summary>
    /// The most sessions one batch of saves writes (default 256): saves that wait for a connection of the budget are
    /// written together, one transaction per batch. 1 writes each save in a transaction of its own.
    /// </summary>
    public int MaxBatchRows { get; init; } = 256;

    /// <summary>The most payload bytes one batch of saves writes (default 4 MiB); a single save larger than this is written alone.</summary>
    public long MaxBatchBytes { get; init; } = 4L << 20;

    /// <summary>The nodes sharing the database (default 1), for the derived <see cref="MaxConnections"/>: each takes its share of <c>max_connections</c>.</summary>
    public int Nodes { get; init; } = 1;

    /// <summary>The budget of a SQLite store when none is given.</summary>
    public const int DefaultSqliteConnections = 4;

    /// <summary>The most connections a derived budget gives one node, however large the server's <c>max_connections</c>.</summary>
    public const int MaxDerivedConnections = 32;

    /// <summary>
    /// The budget a node takes of a PostgreSQL server with <paramref name="maxConnections"/> shared by
    /// <paramref name="nodes"/> nodes: what is left after a reserve (a tenth, at least 5: the superuser's reserved
    /// connections, administration, migrations) divided evenly, at least 1 and at most <see cref="MaxDerivedConnections"/>.
    /// </summary>
    public static int ConnectionBudget(int maxConnections, int nodes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConnections, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(nodes, 1);
        var reserve = Math.Max(5, maxConnections / 10);
        return Math.Clamp((maxConnections - reserve) / nodes, 1, MaxDerivedConnections);
    }

    /// <summary>The linq2db provider name for <see cref="Kind"/>.</summary>
    public string ProviderName => Kind == SqlStoreKind.Sqlite ? SqliteProviderName : PostgreSqlProviderName;

    /// <summary>
    /// SQLite settings for a database file: <paramref name="pathOrConnectionString"/> is either a file path
    /// (relative paths resolve against the current directory) or a Microsoft.Data.Sqlite connection string
    /// (anything with '=' in it, e.g. <c>Data Source=data/sessions.db</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The value is empty, an in-memory database, or a connection string Microsoft.Data.Sqlite does not read.</exception>
    public static SqlStoreSettings Sqlite(string pathOrConnectionString)
    {
        ArgumentNullException.ThrowIfNull(pathOrConnectionString);
        var value = pathOrConnectionString.Trim();
        if (value.Length > 0 && value != ":memory:" && !value.Contains('=', StringComparison.Ordinal))
        {
            value = new SqliteConnectionStringBuilder { DataSource = Path.GetFullPath(value) }.ToString();
        }

        return new SqlStoreSettings(SqlStoreKind.Sqlite, value);
    }

    /// <summary>PostgreSQL settings for an Npgsql connection string (e.g. <c>Host=127.0.0.1;Username=streaming;Password=...;Database=streaming</c>).</summary>
    /// <exception cref="ArgumentException">The connection string is empty, has no Host, or is not one Npgsql reads.</exception>
    public static SqlStoreSettings PostgreSql(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        return new SqlStoreSettings(SqlStoreKind.PostgreSql, connectionString.Trim());
    }

    /// <summary>The SQLite database file (full path), or null for PostgreSQL.</summary>
    public string? SqliteFile => Kind == SqlStoreKind.Sqlite ? Path.GetFullPath(new SqliteConnectionStringBuilder(ConnectionString).DataSource) : null;

    /// <summary>
    /// The Akka.Persistence.Sql snapshot-store plugin configuration these settings describe, at HOCON path
    /// <paramref name="pluginId"/> (default <c>akka.persistence.snapshot-store.sql</c>): class, connection string,
    /// provider name, table (and schema) and <c>auto-initialize = on</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is out of range (see <see cref="Validate"/>), or <paramref name="pluginId"/> is not a HOCON path of simple names.</exception>
    public string ToHocon(string pluginId = "akka.persistence.snapshot-store.sql")
    {
        Validate();
        if (!PluginIdPattern().IsMatch(pluginId))
        {
            throw new ArgumentException($"sql store: the plugin id '{pluginId}' is not a HOCON path of names made of letters, digits, '-' and '_' joined by '.'.", nameof(pluginId));
        }

        var hocon = new StringBuilder();
        hocon.Append(pluginId).AppendLine(" {");
        hocon.AppendLine("  class = \"Akka.Persistence.Sql.Snapshot.SqlSnapshotStore, Akka.Persistence.Sql\"");
        hocon.AppendLine("  plugin-dispatcher = \"akka.persistence.dispatchers.default-plugin-dispatcher\"");
        hocon.Append("  plugin-id = ").AppendLine(Quote(pluginId));
        hocon.Append("  connection-string = ").AppendLine(Quote(PluginConnectionString));
        hocon.Append("  provider-name = ").AppendLine(Quote(ProviderName));
        hocon.AppendLine("  table-mapping = default");
        hocon.AppendLine("  auto-initialize = on");
        hocon.AppendLine("  warn-on-auto-init-fail = on");
        hocon.Append("  circuit-breaker.call-timeout = ").AppendLine(Seconds(Timeout));
        hocon.Append("  circuit-breaker.reset-timeout = ").AppendLine(Seconds(BreakerResetTimeout));
        hocon.AppendLine("  default {");
        hocon.Append("    schema-name = ").AppendLine(SchemaName is null ? "null" : Quote(SchemaName));
        hocon.Append("    snapshot.table-name = ").AppendLine(Quote(TableName));
        hocon.AppendLine("  }");
        hocon.AppendLine("}");
        return hocon.ToString();
    }

    /// <summary>
    /// The connection string the plugin opens connections with: on PostgreSQL with Npgsql's <c>Maximum Pool Size</c>
    /// set to the budget (when it is known), so the pool never opens more than the store may use.
    /// </summary>
    internal string PluginConnectionString => Kind == SqlStoreKind.PostgreSql && MaxConnections > 0
        ? new NpgsqlConnectionStringBuilder(ConnectionString) { MaxPoolSize = MaxConnections }.ConnectionString
        : ConnectionString;

    /// <summary>For logs and errors: the kind and the database (file, or host and database), never a password.</summary>
    public string Describe()
    {
        if (Kind == SqlStoreKind.Sqlite)
        {
            return $"SQLite {SqliteFile} (table {TableName})";
        }

        var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
        var table = SchemaName is null ? TableName : SchemaName + "." + TableName;
        return $"PostgreSQL {builder.Host}:{builder.Port}/{builder.Database} as {builder.Username} (table {table})";
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        Require(Enum.IsDefined(Kind), $"the kind is {Kind}; expected Sqlite or PostgreSql.");
        Require(!string.IsNullOrWhiteSpace(ConnectionString), $"the {Kind} connection string is empty; expected {(Kind == SqlStoreKind.Sqlite ? "a file path or 'Data Source=<file>'" : "'Host=...;Username=...;Password=...;Database=...'")}.");
        Require(TableName is not null && IdentifierPattern().IsMatch(TableName), $"the table name '{TableName}' is not a plain identifier; expected letters, digits and '_', starting with a letter or '_', at most 63.");
        Require(SchemaName is null || IdentifierPattern().IsMatch(SchemaName), $"the schema name '{SchemaName}' is not a plain identifier; expected letters, digits and '_', starting with a letter or '_', at most 63.");
        Require(Timeout > TimeSpan.Zero, $"the timeout is {Timeout}; expected a positive duration.");
        Require(BreakerResetTimeout > TimeSpan.Zero, $"the circuit breaker's reset timeout is {BreakerResetTimeout}; expected a positive duration.");
        Require(MaxConnections >= 0, $"the store budget (MaxConnections) is {MaxConnections}; expected 0 (derived from the database) or a positive number of connections.");
        Require(MaxQueuedCalls >= 0, $"MaxQueuedCalls is {MaxQueuedCalls}; expected 0 or more calls waiting for a connection.");
        Require(MaxBatchRows is >= 1 and <= SnapshotTable.MaxRowsPerStatement, $"MaxBatchRows is {MaxBatchRows}; expected 1 to {SnapshotTable.MaxRowsPerStatement} sessions per batch.");
        Require(MaxBatchBytes >= 1, $"MaxBatchBytes is {MaxBatchBytes}; expected a positive number of bytes.");
        Require(Nodes >= 1, $"Nodes is {Nodes}; expected the number of nodes sharing the database, 1 or more.");
        if (Kind == SqlStoreKind.Sqlite)
        {
            Require(ConnectionString.Trim() != ":memory:", "the SQLite database ':memory:' is an in-memory database, which forgets everything; expected a file (or the memory store instead).");
            Require(SchemaName is null, $"a schema ('{SchemaName}') was given for SQLite; expected none (schemas are PostgreSQL only).");
            SqliteConnectionStringBuilder builder;
            try
            {
                builder = new SqliteConnectionStringBuilder(ConnectionString);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"sql store: the SQLite connection string '{ConnectionString}' is not valid ({e.Message}); expected a file path or 'Data Source=<file>'.", e);
            }

            Require(builder.DataSource.Length > 0, $"the SQLite connection string '{ConnectionString}' names no file; expected 'Data Source=<file>'.");
            Require(builder.Mode != SqliteOpenMode.Memory && builder.DataSource != ":memory:", $"the SQLite connection string '{ConnectionString}' is an in-memory database, which forgets everything; expected a file (or the memory store instead).");
            Require(builder.Mode != SqliteOpenMode.ReadOnly, $"the SQLite connection string '{ConnectionString}' opens the file read-only; expected a writable database.");
        }
        else
        {
            NpgsqlConnectionStringBuilder builder;
            try
            {
                builder = new NpgsqlConnectionStringBuilder(ConnectionString);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
            {
                throw new ArgumentException($"sql store: the PostgreSQL connection string is not valid ({e.Message}); expected 'Host=...;Username=...;Password=...;Database=...'.", e);
            }

            Require(!string.IsNullOrWhiteSpace(builder.Host), "the PostgreSQL connection string has no Host; expected 'Host=...;Username=...;Password=...;Database=...'.");
        }
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException("sql store: " + message);
        }
    }

    private static string Seconds(TimeSpan duration) => duration.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";

    // A HOCON quoted string: JSON escaping rules.
    private static string Quote(string value)
    {
        var quoted = new StringBuilder("\"");
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': quoted.Append("\\\""); break;
                case '\\': quoted.Append("\\\\"); break;
                case '\n': quoted.Append("\\n"); break;
                case '\r': quoted.Append("\\r"); break;
                case '\t': quoted.Append("\\t"); break;
                default:
                    if (c < ' ')
                    {
                        quoted.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    }
                    else
                    {
                        quoted.Append(c);
                    }

                    break;
            }
        }

        return quoted.Append('"').ToString();
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex("^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$")]
    private static partial Regex PluginIdPattern();
}
