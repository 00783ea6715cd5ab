using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Akka.Persistence;
using Akka.Serialization;
using Akka.Util;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Streaming.Persistence;

/// <summary>
/// An <see cref="ISnapshotStore"/> in a SQL database (SQLite or PostgreSQL), in the table of Akka.Persistence.Sql's
/// snapshot-store plugin. Each session is a snapshot whose payload is <see cref="StoredSession.ToBytes"/>, under a
/// persistence id made of the model identity (name and weights hash) and the session id, so another model or weights
/// version never resumes another's sessions. Every save gets a sequence number above any this store has seen for the
/// session (at load or save) and above the clock's ticks, so the latest save wins even when engines of a cluster save
/// one session one after another; older rows of the session are deleted in the same transaction, so the table keeps
/// one row per session. Safe to call concurrently; saves of one session may overlap (the one called last wins), but a
/// delete must not overlap a save of the same session (an engine never overlaps them), or the save may land after it.
/// </summary>
/// <remarks>
/// <para>
/// Loads and deletes go through the plugin (its actor answers <c>LoadSnapshot</c> and <c>DeleteSnapshots</c>). Saves
/// do not: they are batched (<see cref="SaveBatcher"/>). Saves that wait for a connection of the store budget go
/// together into one transaction (<see cref="SnapshotTable"/>: one multi-row upsert, one delete of the older rows), at
/// most <see cref="SqlStoreSettings.MaxBatchRows"/> rows and <see cref="SqlStoreSettings.MaxBatchBytes"/> bytes, each
/// batch holding one connection of the budget; every caller completes when its batch commits, or fails with the others
/// of its batch, none of them written, when it does not.
/// </para>
/// <para>
/// Why writes go around the plugin: its snapshot store has no batch API. Each <c>SaveSnapshot</c> is one transaction
/// (an insert-or-replace of one row) and the clean-up of older rows another, so checkpoints cost connections in
/// proportion to sessions, and 10,000 sessions every 2 s would need more connections than a database grants a node.
/// The alternatives: raising the budget (the opposite of bounding connections); the plugin's journal, which does batch
/// writes but is an event log in another table, so checkpoints would become events to delete again and rows already
/// stored would no longer load; linq2db with the plugin's row mapping, which the plugin builds inside its own
/// connection factory and does not expose (and whose bulk copy cannot upsert). Writing the plugin's table ourselves
/// keeps the plugin as the owner of the schema (it creates the table) and the reader of every row (rows written by
/// older versions of this store, which saved through it, load as before); what it costs is a dependency on the table's
/// layout (six columns, the primary key, the serializer id and manifest of a byte[] payload), which the tests pin by
/// loading batched rows through the plugin and comparing them with a row the plugin wrote, and saves do not pass the
/// plugin's circuit breaker (a failing batch fails once for all its sessions instead).
/// </para>
/// </remarks>
public sealed class SqlSnapshotStore : ISnapshotStore
{
    private static readonly Lock ConfigLock = new();
    private readonly IActorRef _plugin;
    private readonly string _modelKey;
    private readonly ConcurrentDictionary<string, long> _sequenceNumbers = new(StringComparer.Ordinal);
    private readonly StoreCallLimiter _limiter;
    private readonly Serializer _payloadSerializer;
    private readonly SaveBatcher _batcher;

    private SqlSnapshotStore(ActorSystem system, SqlStoreSettings settings, ModelIdentity model, string pluginId, IActorRef plugin)
    {
        _limiter = new StoreCallLimiter(settings.MaxConnections, settings.MaxQueuedCalls, settings.Describe());
        Settings = settings;
        Model = model;
        PluginId = pluginId;
        _plugin = plugin;
        _modelKey = ModelKey(model);
        // What the plugin records for a byte[] snapshot (its ByteArrayLongSnapshotSerializer), so that it reads the
        // batches' rows as its own: Akka's byte-array serializer, id 4, with no manifest.
        _payloadSerializer = system.Serialization.FindSerializerForType(typeof(byte[]));
        var manifest = _payloadSerializer switch
        {
            SerializerWithStringManifest named => named.Manifest(Array.Empty<byte>()),
            { IncludeManifest: true } => typeof(byte[]).TypeQualifiedName(),
            _ => string.Empty,
        };
        var table = new SnapshotTable(settings, _payloadSerializer.Identifier, manifest);
        // SQLite writes one transaction at a time: more batches at once would only wait for each other's lock.
        var writers = settings.Kind == SqlStoreKind.Sqlite ? 1 : settings.MaxConnections;
        _batcher = new SaveBatcher(_limiter, writers, settings.MaxBatchRows, settings.MaxBatchBytes, settings.Describe(), table.WriteAsync);
    }

    /// <summary>Where the sessions are kept, with the store budget resolved (<see cref="SqlStoreSettings.MaxConnections"/> is never 0 here).</summary>
    public SqlStoreSettings Settings { get; }

    /// <summary>Store calls waiting now for a connection of the budget (loads and deletes), or for a batch (saves).</summary>
    public int CallsWaiting => _limiter.Waiting + _batcher.Waiting;

    /// <summary>What the batched saves have done since the store opened: batches (transactions), rows, failures.</summary>
    public SaveBatchStatistics SaveBatches => _batcher.Statistics;

    /// <summary>The model whose sessions this store keeps.</summary>
    public ModelIdentity Model { get; }

    /// <summary>The HOCON path of the Akka.Persistence.Sql snapshot-store plugin this store talks to.</summary>
    public string PluginId { get; }

    /// <summary>
    /// Opens the store for <paramref name="model"/>'s sessions in <paramref name="system"/>: creates the SQLite file's
    /// folder (or, on PostgreSQL, the schema) when missing, registers and starts the snapshot-store plugin (which
    /// creates the table when missing), and reads once, so a database that cannot be reached fails here with a
    /// message naming it rather than at the first session.
    /// </summary>
    /// <exception cref="ArgumentException">The settings are out of range.</exception>
    /// <exception cref="InvalidOperationException">The database cannot be opened or reached, or the plugin does not start.</exception>
    public static async Task<SqlSnapshotStore> OpenAsync(ActorSystem system, SqlStoreSettings settings, ModelIdentity model, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(model);
        settings.Validate();
        var serverMaxConnections = await PrepareDatabaseAsync(settings, cancellationToken).ConfigureAwait(false);
        if (settings.MaxConnections == 0)
        {
            settings = settings with
            {
                MaxConnections = serverMaxConnections is { } max ? SqlStoreSettings.ConnectionBudget(max, settings.Nodes) : SqlStoreSettings.DefaultSqliteConnections,
            };
        }

        // One plugin per database, table and budget, so stores of several databases can live in one actor system.
        var key = $"{settings.Kind}\n{settings.ConnectionString}\n{settings.SchemaName}\n{settings.TableName}\n{settings.Timeout.Ticks}\n{settings.BreakerResetTimeout.Ticks}\n{settings.MaxConnections}";
        var pluginId = "streaming.persistence.snapshot-store-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        IActorRef plugin;
        lock (ConfigLock)
        {
            if (!system.Settings.Config.HasPath(pluginId))
            {
                system.Settings.InjectTopLevelFallback(ConfigurationFactory.ParseString(settings.ToHocon(pluginId)));
            }

            plugin = Akka.Persistence.Persistence.Instance.Apply(system).SnapshotStoreFor(pluginId);
        }

        var store = new SqlSnapshotStore(system, settings, model, pluginId, plugin);
        try
        {
            await store.LoadAsync("~probe", cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new InvalidOperationException($"the session store {settings.Describe()} did not start: {e.Message}", e);
        }

        return store;
    }

    /// <inheritdoc />
    /// <remarks>
    /// The save waits for the next batch (<see cref="SaveBatches"/>) and completes when that batch's transaction has
    /// committed; when it fails, every save in it fails with an <see cref="InvalidOperationException"/> naming the
    /// store, the session and the cause, and none of them is written.
    /// </remarks>
    public Task SaveAsync(string sessionId, StoredSession stored, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var persistenceId = PersistenceIdOf(sessionId);
        var now = DateTime.UtcNow.Ticks;
        var sequenceNr = _sequenceNumbers.AddOrUpdate(persistenceId, now, (_, known) => Math.Max(known + 1, now));
        var row = new SnapshotRow(persistenceId, sequenceNr, now, _payloadSerializer.ToBinary(stored.ToBytes()));
        return _batcher.SaveAsync(sessionId, row, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<StoredSession?> LoadAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var persistenceId = PersistenceIdOf(sessionId);
        var answer = await _limiter.RunAsync(() => AskAsync(new LoadSnapshot(persistenceId, SnapshotSelectionCriteria.Latest, long.MaxValue), "load", sessionId, cancellationToken), "load", sessionId, cancellationToken).ConfigureAwait(false);
        switch (answer)
        {
            case LoadSnapshotResult { Snapshot: null }:
                return null;
            case LoadSnapshotResult { Snapshot: var selected }:
                var sequenceNr = selected.Metadata.SequenceNr;
                _sequenceNumbers.AddOrUpdate(persistenceId, sequenceNr, (_, known) => Math.Max(known, sequenceNr));
                if (selected.Snapshot is not byte[] bytes)
                {
                    throw new EngineException(EngineErrorCode.MalformedSnapshot, $"the session store {Settings.Describe()} holds a {selected.Snapshot?.GetType().Name ?? "null"} for session '{sessionId}'; expected the bytes of a stored session.");
                }

                return StoredSession.FromBytes(bytes);
            case LoadSnapshotFailed failed:
                throw Failed("load", sessionId, failed.Cause);
            case var other:
                throw Unexpected("load", sessionId, other);
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var persistenceId = PersistenceIdOf(sessionId);
        var answer = await _limiter.RunAsync(() => AskAsync(new DeleteSnapshots(persistenceId, SnapshotSelectionCriteria.Latest), "delete", sessionId, cancellationToken), "delete", sessionId, cancellationToken).ConfigureAwait(false);
        switch (answer)
        {
            case DeleteSnapshotsSuccess:
                // Nothing is left to order a later save after; the clock's ticks suffice.
                _sequenceNumbers.TryRemove(persistenceId, out _);
                break;
            case DeleteSnapshotsFailure failure:
                throw Failed("delete", sessionId, failure.Cause);
            case var other:
                throw Unexpected("delete", sessionId, other);
        }
    }

    /// <summary>The store, for logs: the database and the model.</summary>
    public override string ToString() => $"{Settings.Describe()} for model {Model}";

    /// <summary>
    /// The persistence id of <paramref name="sessionId"/>: the model key, '/', then the session id as it is, or, for
    /// an id with control characters, one starting with '~' or one longer than 160 characters, '~' and the SHA-256
    /// of its UTF-8 bytes (so every id fits the 255-character column and no two ids share a row).
    /// </summary>
    internal string PersistenceIdOf(string sessionId)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        var plain = sessionId.Length <= 160 && sessionId[0] != '~' && !sessionId.Any(char.IsControl);
        return _modelKey + "/" + (plain ? sessionId : "~" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sessionId))));
    }

    // The model's name (letters, digits, '-', '_', '.'; others become '_'; at most 64) and the first 16 hex digits of
    // its weights hash, like the file store's per-model folder.
    private static string ModelKey(ModelIdentity model)
    {
        var name = new string(model.Name.Take(64).Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());
        return $"{name}-{model.WeightsSha256[..Math.Min(16, model.WeightsSha256.Length)]}";
    }

    private async Task<object> AskAsync(object message, string operation, string sessionId, CancellationToken cancellationToken)
    {
        // The plugin's own circuit breaker times out a database call after Settings.Timeout and answers with a
        // failure; the margin lets that clearer answer arrive first.
        var timeout = Settings.Timeout + TimeSpan.FromSeconds(5);
        try
        {
            return await _plugin.Ask<object>(message, timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AskTimeoutException e)
        {
            throw new TimeoutException($"the session store {Settings.Describe()} (plugin {PluginId}) did not {operation} session '{sessionId}' within {timeout.TotalSeconds:0.#} s; expected the database to answer (is it reachable, and does the role have the rights to create and write the table?).", e);
        }
    }

    private InvalidOperationException Failed(string operation, string sessionId, Exception cause) =>
        new($"the session store {Settings.Describe()} could not {operation} session '{sessionId}': {cause.Message}", cause);

    private InvalidOperationException Unexpected(string operation, string sessionId, object reply) =>
        new($"the session store {Settings.Describe()} (plugin {PluginId}) answered {reply.GetType().Name} to the {operation} of session '{sessionId}'; expected its success or failure.");

    // Creates what the plugin cannot: the SQLite file's folder (and write-ahead logging, so readers never wait for a
    // writer), or the PostgreSQL schema. Opening a connection here also turns an unreachable database into a clear
    // error at start-up. Returns PostgreSQL's max_connections (null for SQLite), for the derived store budget.
    private static async Task<int?> PrepareDatabaseAsync(SqlStoreSettings settings, CancellationToken cancellationToken)
    {
        try
        {
            if (settings.Kind == SqlStoreKind.Sqlite)
            {
                var folder = Path.GetDirectoryName(settings.SqliteFile);
                if (!string.IsNullOrEmpty(folder))
                {
                    Directory.CreateDirectory(folder);
                }

                var connection = new SqliteConnection(settings.ConnectionString);
                await using (connection.ConfigureAwait(false))
                {
                    await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                    var command = connection.CreateCommand();
                    await using (command.ConfigureAwait(false))
                    {
                        command.CommandText = "PRAGMA journal_mode=WAL;";
                        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }
                }

                return null;
            }
            else
            {
                // Unpooled: this connection must not stay open beside the budget's.
                var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(settings.ConnectionString) { Pooling = false }.ConnectionString);
                await using (connection.ConfigureAwait(false))
                {
                    await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                    if (settings.SchemaName is not null)
                    {
                        var command = connection.CreateCommand();
                        await using (command.ConfigureAwait(false))
                        {
                            // The name is a checked plain identifier (SqlStoreSettings.Validate).
#pragma warning disable CA2100
                            command.CommandText = $"CREATE SCHEMA IF NOT EXISTS \"{settings.SchemaName}\"";
#pragma warning restore CA2100
                            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                        }
                    }

                    var show = connection.CreateCommand();
                    await using (show.ConfigureAwait(false))
                    {
                        show.CommandText = "SHOW max_connections";
                        var value = Convert.ToString(await show.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
                        return int.TryParse(value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var max) && max > 0
                            ? max
                            : throw new InvalidOperationException($"the session store {settings.Describe()} answered '{value}' to SHOW max_connections; expected a positive number (or set Streaming:Store:MaxConnections).");
                    }
                }
            }
        }
        catch (Exception e) when (e is SqliteException or NpgsqlException or IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
        {
            throw new InvalidOperationException($"the session store {settings.Describe()} cannot be opened: {e.Message}", e);
        }
    }
}
