using System.Globalization;
using Microsoft.Extensions.Configuration;
using Streaming.Cells.Backends;
using Streaming.Client.Protocol;
using Streaming.Host.Server;
using Streaming.Host.Storage;

namespace Streaming.Host.Service;

/// <summary>
/// The worker service's settings: the <c>Streaming</c> section of config/appsettings.json, overridden by
/// <c>STREAMING_*</c> environment variables (e.g. <c>STREAMING_PORT=7701</c>), overridden by command-line flags.
/// </summary>
public sealed record HostSettings
{
    /// <summary>The configuration section the settings live in.</summary>
    public const string Section = "Streaming";

    /// <summary>Address to listen on (default 127.0.0.1).</summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>TCP port (default 7700; 0 picks a free one).</summary>
    public int Port { get; init; } = 7700;

    /// <summary>The model manifest, absolute or relative to the config folder (default models/char-english.json, the trained example).</summary>
    public string Model { get; init; } = "models/char-english.json";

    /// <summary>Managed or Torch (default Managed).</summary>
    public BackendKind Backend { get; init; } = BackendKind.Managed;

    /// <summary>Torch device: cpu, cuda or cuda:N (default cpu).</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Compute threads; 0 shares the cores between the layer stages (default 0).</summary>
    public int Threads { get; init; }

    /// <summary>
    /// The widest instructions the Managed backend's matrix kernel may use: Auto (default: the widest this CPU
    /// accelerates), Vector512, Vector256 or Scalar. The kernel check falls back from there if a width is wrong here.
    /// </summary>
    public KernelWidth KernelWidth { get; init; } = KernelWidth.Auto;

    /// <summary>
    /// How the engine lays the model over pipeline stages: Auto (default: Fused for the Managed backend, PerLayer for
    /// Torch, as measured in docs/benchmarks.md), PerLayer (a stage per layer and one for the head, computing consecutive
    /// batches at once) or Fused (one stage steps the whole stack per batch with every core).
    /// </summary>
    public PipelineLayout PipelineLayout { get; init; } = PipelineLayout.Auto;

    /// <summary>Most elements one stage computes at once (default 1024).</summary>
    public int MaxBatchSize { get; init; } = 1024;

    /// <summary>Most operations of one session inside the engine's pipeline at once; later ones queue in the session (default 64).</summary>
    public int MaxInFlightPerSession { get; init; } = 64;

    /// <summary>
    /// Token and Replay frames of one session a connection may have unanswered, announced in the Welcome as "max in
    /// flight" (default 256, the protocol's). Larger than the pipeline depth on purpose: a client's window must also
    /// cover the network round trip, or the pipeline runs dry between replies.
    /// </summary>
    public int MaxTokensInFlightPerSession { get; init; } = ProtocolLimits.Default.MaxTokensInFlightPerSession;

    /// <summary>
    /// The most bytes of recent outputs one session keeps, in memory and in its persisted snapshot (default 128 KiB;
    /// 0: none), so that a resent token is refused DuplicateToken with its original output: a session keeps the
    /// outputs of its last <see cref="MaxTokensInFlightPerSession"/> tokens within this bound, and the server announces
    /// no more tokens in flight than it keeps.
    /// </summary>
    public int KeptOutputBytesPerSession { get; init; } = EngineOptions.Default.KeptOutputBytes;

    /// <summary>Most connections held at once; 0 (default) derives it from the descriptor limit (the limit less an eighth, at least 64).</summary>
    public int MaxConnections { get; init; }

    /// <summary>Bytes of replies one connection may have waiting to be written before the server stops reading it (default 16 MiB).</summary>
    public int MaxPendingBytesPerConnection { get; init; } = ServerOptions.Default.MaxPendingBytesPerConnection;

    /// <summary>Idle seconds before a session is passivated to the store; 0 never (default 0).</summary>
    public int PassivateAfterSeconds { get; init; }

    /// <summary>Largest frame, length prefix included (default 1 MiB).</summary>
    public int MaxFrameBytes { get; init; } = ProtocolLimits.Default.MaxFrameBytes;

    /// <summary>Most sessions one connection may use (default 1024).</summary>
    public int MaxSessionsPerConnection { get; init; } = ProtocolLimits.Default.MaxSessionsPerConnection;

    /// <summary>Seconds a connection may stay silent before it is closed (default 300).</summary>
    public int IdleConnectionSeconds { get; init; } = (int)ProtocolLimits.Default.IdleTimeout.TotalSeconds;

    /// <summary>Port of the Prometheus endpoint <c>http://Host:MetricsPort/metrics</c>; 0 turns it off (default 0).</summary>
    public int MetricsPort { get; init; }

    /// <summary>
    /// Seconds a graceful shutdown may take to drain connections (default 30), and then how long it keeps retrying the
    /// saves the store refuses: a single node's shutdown saves, a cluster node's hand-off saves. A session still unsaved
    /// then makes <c>serve</c> exit 3.
    /// </summary>
    public int ShutdownSeconds { get; init; } = 30;

    /// <summary>Seconds between checkpoints of sessions that changed; 0 never (default 2). A crash loses at most this much.</summary>
    public int CheckpointSeconds { get; init; } = 2;

    /// <summary>Idle seconds after which a session expires (its state is deleted, a tombstone kept); 0 never (default 0).</summary>
    public int ExpireAfterSeconds { get; init; }

    /// <summary>
    /// Where sessions are kept (section <c>Streaming:Store</c>): <c>Kind</c> sqlite (default), postgresql or memory,
    /// and <c>ConnectionString</c>, for SQLite a file path or a connection string (default <c>data/sessions.db</c>
    /// relative to the current directory), for PostgreSQL an Npgsql connection string; <c>MaxConnections</c>, the
    /// store budget (0, the default: derived from PostgreSQL's max_connections and the seed nodes, or 4 on SQLite) and
    /// <c>MaxQueuedCalls</c> (default 65,536), see docs/operations.md. Sessions open at shutdown,
    /// passivated ones and checkpoints are saved there; a restarted server resumes them on their next operation.
    /// </summary>
    public StoreSettings Store { get; init; } = StoreSettings.Default;

    /// <summary>
    /// Akka.Remote port of this node in a cluster of servers; 0 (the default) runs a single server without a cluster.
    /// In a cluster, sessions are sharded by id over the nodes, any node's TCP port serves any session, and the store
    /// must be shared by the nodes (postgresql).
    /// </summary>
    public int ClusterPort { get; init; }

    /// <summary>The cluster's seed nodes, comma-separated <c>host:port</c> (Akka.Remote ports), the same list on every node; required with <see cref="ClusterPort"/>.</summary>
    public string SeedNodes { get; init; } = "";

    /// <summary>Seconds the cluster membership must be stable before unreachable nodes are downed and their sessions move (default 20).</summary>
    public int ClusterStableAfterSeconds { get; init; } = 20;

    /// <summary>Folder for recordings of live traffic (rnn-recording/2), absolute or relative to the config folder; empty (the default) records nothing.</summary>
    public string RecordDirectory { get; init; } = "";

    /// <summary>The sessions to record, comma-separated: exact ids, prefixes ending in <c>*</c>, or <c>*</c> for all (default none).</summary>
    public string RecordSessions { get; init; } = "";

    /// <summary>Reads and checks the settings; a bad one stops start-up with a message that names it.</summary>
    /// <exception cref="InvalidOperationException">A setting is missing its format or out of range.</exception>
    public static HostSettings From(IConfiguration configuration, string configDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(Section);
        var known = typeof(HostSettings).GetProperties().Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (!known.Contains(child.Key))
            {
                throw Bad(child.Key, $"is not a setting; expected one of {string.Join(", ", known.Order())}");
            }
        }

        var defaults = new HostSettings();
        var settings = new HostSettings
        {
            Host = Text(section, nameof(Host), defaults.Host),
            Port = Integer(section, nameof(Port), defaults.Port, 0, 65535),
            Model = Text(section, nameof(Model), defaults.Model),
            Backend = Kind(section, defaults.Backend),
            Device = Text(section, nameof(Device), defaults.Device),
            Threads = Integer(section, nameof(Threads), defaults.Threads, 0, 1024),
            KernelWidth = Choice(section, nameof(KernelWidth), defaults.KernelWidth),
            PipelineLayout = Choice(section, nameof(PipelineLayout), defaults.PipelineLayout),
            MaxBatchSize = Integer(section, nameof(MaxBatchSize), defaults.MaxBatchSize, 1, 1 << 20),
            MaxInFlightPerSession = Integer(section, nameof(MaxInFlightPerSession), defaults.MaxInFlightPerSession, 1, 1 << 20),
            PassivateAfterSeconds = Integer(section, nameof(PassivateAfterSeconds), defaults.PassivateAfterSeconds, 0, int.MaxValue),
            MaxFrameBytes = Integer(section, nameof(MaxFrameBytes), defaults.MaxFrameBytes, 64, 1 << 30),
            MaxSessionsPerConnection = Integer(section, nameof(MaxSessionsPerConnection), defaults.MaxSessionsPerConnection, 1, 1 << 20),
            MaxTokensInFlightPerSession = Integer(section, nameof(MaxTokensInFlightPerSession), defaults.MaxTokensInFlightPerSession, 1, 1 << 20),
            KeptOutputBytesPerSession = Integer(section, nameof(KeptOutputBytesPerSession), defaults.KeptOutputBytesPerSession, 0, int.MaxValue),
            MaxConnections = Integer(section, nameof(MaxConnections), defaults.MaxConnections, 0, int.MaxValue),
            MaxPendingBytesPerConnection = Integer(section, nameof(MaxPendingBytesPerConnection), defaults.MaxPendingBytesPerConnection, 1 << 16, int.MaxValue),
            IdleConnectionSeconds = Integer(section, nameof(IdleConnectionSeconds), defaults.IdleConnectionSeconds, 1, int.MaxValue),
            MetricsPort = Integer(section, nameof(MetricsPort), defaults.MetricsPort, 0, 65535),
            ShutdownSeconds = Integer(section, nameof(ShutdownSeconds), defaults.ShutdownSeconds, 1, 3600),
            CheckpointSeconds = Integer(section, nameof(CheckpointSeconds), defaults.CheckpointSeconds, 0, 86_400),
            ExpireAfterSeconds = Integer(section, nameof(ExpireAfterSeconds), defaults.ExpireAfterSeconds, 0, int.MaxValue),
            Store = StoreFrom(section.GetSection(nameof(Store))),
            RecordDirectory = section[nameof(RecordDirectory)] is { Length: > 0 } records ? Path.GetFullPath(records.Trim(), configDirectory) : "",
            RecordSessions = section[nameof(RecordSessions)]?.Trim() ?? "",
            ClusterPort = Integer(section, nameof(ClusterPort), defaults.ClusterPort, 0, 65535),
            SeedNodes = section[nameof(SeedNodes)]?.Trim() ?? "",
            ClusterStableAfterSeconds = Integer(section, nameof(ClusterStableAfterSeconds), defaults.ClusterStableAfterSeconds, 1, 3600),
        };
        if (settings.RecordDirectory.Length > 0 && settings.RecordSessions.Length == 0)
        {
            throw Bad(nameof(RecordSessions), $"is empty while {nameof(RecordDirectory)} is '{settings.RecordDirectory}'; expected the sessions to record (ids, prefixes ending in '*', or '*')");
        }
        if (settings.ExpireAfterSeconds > 0 && settings.PassivateAfterSeconds > 0 && settings.ExpireAfterSeconds <= settings.PassivateAfterSeconds)
        {
            throw Bad(nameof(ExpireAfterSeconds), $"is {settings.ExpireAfterSeconds}, not more than {nameof(PassivateAfterSeconds)} ({settings.PassivateAfterSeconds}); expected sessions to passivate before they expire (or 0: never expire)");
        }

        if (settings.ClusterPort > 0 && settings.Store.Sql is { } sql)
        {
            // The derived store budget shares the database's connections among the nodes: the seed list names them all.
            settings = settings with { Store = settings.Store with { Sql = sql with { Nodes = Math.Max(1, settings.SeedNodes.Split(',', StringSplitOptions.RemoveEmptyEntries).Length) } } };
        }

        if (settings.ClusterPort > 0)
        {
            if (settings.SeedNodes.Length == 0)
            {
                throw Bad(nameof(SeedNodes), $"is empty while {nameof(ClusterPort)} is {settings.ClusterPort}; expected the cluster's seed nodes as host:port, comma-separated");
            }

            if (settings.Store.Kind == StoreKind.Memory)
            {
                throw Bad(nameof(Store) + ":Kind", $"is memory while {nameof(ClusterPort)} is {settings.ClusterPort}; expected a store the nodes share (postgresql), or sessions could not move between nodes");
            }
        }

        var model = Path.GetFullPath(settings.Model, configDirectory);
        if (!File.Exists(model))
        {
            throw Bad(nameof(Model), $"is '{settings.Model}', but no manifest exists at {model}");
        }

        return settings with { Model = model };
    }

    /// <summary>The engine options these settings describe.</summary>
    public EngineOptions ToEngineOptions() => EngineOptions.Default with
    {
        Backend = new BackendOptions(Backend, Device, Threads) { Width = KernelWidth },
        Layout = PipelineLayout,
        MaxBatchSize = MaxBatchSize,
        MaxInFlightPerSession = MaxInFlightPerSession,
        KeptOutputs = MaxTokensInFlightPerSession,
        KeptOutputBytes = KeptOutputBytesPerSession,
        PassivateAfter = PassivateAfterSeconds > 0 ? TimeSpan.FromSeconds(PassivateAfterSeconds) : null,
        CheckpointEvery = CheckpointSeconds > 0 ? TimeSpan.FromSeconds(CheckpointSeconds) : null,
        ExpireAfter = ExpireAfterSeconds > 0 ? TimeSpan.FromSeconds(ExpireAfterSeconds) : null,
        // A single node retries the saves its store refuses at shutdown as long as a leaving cluster node retries its hand-offs.
        ShutdownSaveDeadline = TimeSpan.FromSeconds(ShutdownSeconds),
    };

    /// <summary>The cluster node these settings describe, or null when <see cref="ClusterPort"/> is 0.</summary>
    public Streaming.Cluster.ClusterNodeSettings? ToClusterNode() => ClusterPort == 0 ? null : new Streaming.Cluster.ClusterNodeSettings
    {
        Hostname = Host,
        Port = ClusterPort,
        SeedNodes = SeedNodes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        StableAfter = TimeSpan.FromSeconds(ClusterStableAfterSeconds),
    };

    /// <summary>The server options these settings describe.</summary>
    public ServerOptions ToServerOptions() => ServerOptions.Default with
    {
        Host = Host,
        Port = Port,
        MaxConnections = MaxConnections > 0 ? MaxConnections : null,
        MaxPendingBytesPerConnection = MaxPendingBytesPerConnection,
        Limits = ProtocolLimits.Default with
        {
            MaxFrameBytes = MaxFrameBytes,
            MaxSessionsPerConnection = MaxSessionsPerConnection,
            MaxTokensInFlightPerSession = MaxTokensInFlightPerSession,
            IdleTimeout = TimeSpan.FromSeconds(IdleConnectionSeconds),
        },
    };

    private static string Text(IConfigurationSection section, string name, string fallback)
    {
        var value = section[name];
        if (value is null)
        {
            return fallback;
        }

        return string.IsNullOrWhiteSpace(value) ? throw Bad(name, "is empty; expected a value") : value;
    }

    private static int Integer(IConfigurationSection section, string name, int fallback, int min, int max, string? path = null)
    {
        var value = section[name];
        if (value is null)
        {
            return fallback;
        }

        path ??= name;
        if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
        {
            throw Bad(path, $"is '{value}'; expected an integer from {min} to {max}");
        }

        return number < min || number > max ? throw Bad(path, $"is {number}; expected an integer from {min} to {max}") : number;
    }

    private static BackendKind Kind(IConfigurationSection section, BackendKind fallback)
    {
        var value = section[nameof(Backend)];
        if (value is null)
        {
            return fallback;
        }

        return Enum.TryParse<BackendKind>(value, ignoreCase: true, out var kind) && Enum.IsDefined(kind)
            ? kind
            : throw Bad(nameof(Backend), $"is '{value}'; expected Managed or Torch");
    }

    // One of an enumeration's names, in any case; never a number.
    private static T Choice<T>(IConfigurationSection section, string key, T fallback)
        where T : struct, Enum
    {
        var value = section[key];
        if (value is null)
        {
            return fallback;
        }

        var names = Enum.GetNames<T>();
        return Enum.TryParse<T>(value, ignoreCase: true, out var choice) && Enum.IsDefined(choice) && !int.TryParse(value, out _)
            ? choice
            : throw Bad(key, $"is '{value}'; expected {string.Join(", ", names[..^1])} or {names[^1]}");
    }

    private static StoreSettings StoreFrom(IConfigurationSection store)
    {
        const string KindKey = nameof(Store) + ":Kind", ConnectionKey = nameof(Store) + ":ConnectionString";
        if (store.Value is { Length: > 0 } flat)
        {
            throw Bad(nameof(Store), $"is '{flat}'; expected a section with Kind (sqlite, postgresql or memory) and ConnectionString");
        }

        string[] keys = ["Kind", "ConnectionString", "MaxConnections", "MaxQueuedCalls"];
        foreach (var child in store.GetChildren())
        {
            if (!keys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                throw Bad(nameof(Store) + ":" + child.Key, $"is not a setting; expected one of {string.Join(", ", keys)}");
            }
        }

        var maxConnections = Integer(store, "MaxConnections", 0, 0, 10_000, nameof(Store) + ":MaxConnections");
        var maxQueued = Integer(store, "MaxQueuedCalls", 65_536, 0, int.MaxValue, nameof(Store) + ":MaxQueuedCalls");

        var kindText = store["Kind"]?.Trim();
        StoreKind kind;
        if (string.IsNullOrEmpty(kindText))
        {
            kind = StoreKind.Sqlite;
        }
        else if (!Enum.TryParse(kindText, ignoreCase: true, out kind) || !Enum.IsDefined(kind) || kindText.All(char.IsDigit))
        {
            throw Bad(KindKey, $"is '{kindText}'; expected sqlite, postgresql or memory");
        }

        try
        {
            var settings = StoreSettings.Of(kind, store["ConnectionString"]?.Trim());
            return settings.Sql is null ? settings : settings with { Sql = settings.Sql with { MaxConnections = maxConnections, MaxQueuedCalls = maxQueued } };
        }
        catch (ArgumentException e)
        {
            throw Bad(ConnectionKey, $"is not usable for {kind}: {e.Message}");
        }
    }

    private static InvalidOperationException Bad(string name, string problem) =>
        new($"setting {Section}:{name} {problem} (set it in config/appsettings.json, as STREAMING_{name.ToUpperInvariant().Replace(":", "__", StringComparison.Ordinal)}, or with a flag).");
}
