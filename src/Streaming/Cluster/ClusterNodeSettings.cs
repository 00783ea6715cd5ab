namespace Streaming.Cluster;

/// <summary>
/// What one node of a sessions cluster needs to join it; <see cref="ClusterConfig.Hocon"/> turns it into the
/// node's Akka configuration. Only <see cref="SystemName"/>, <see cref="Port"/> and <see cref="SeedNodes"/> usually
/// change; the timings have production defaults, and tests shorten them.
/// </summary>
public sealed record ClusterNodeSettings
{
    /// <summary>The actor system's name, the same on every node (seed addresses name it); default "streaming".</summary>
    public string SystemName { get; init; } = "streaming";

    /// <summary>The address this node binds and is reached at (default 127.0.0.1).</summary>
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>The TCP port of Akka.Remote on this node (default 4053); 0 picks a free port, which only a node that joins by other means than being a seed may use.</summary>
    public int Port { get; init; } = 4053;

    /// <summary>
    /// The seed nodes, as "host:port" (of <see cref="SystemName"/>) or full addresses ("akka.tcp://streaming@10.0.0.1:4053").
    /// The first seed forms the cluster when it finds no other seed; list the same seeds, in the same order, on every node.
    /// </summary>
    public IReadOnlyList<string> SeedNodes { get; init; } = [];

    /// <summary>This node's cluster roles (default none); see <see cref="ShardingOptions.Role"/>.</summary>
    public IReadOnlyList<string> Roles { get; init; } = [];

    /// <summary>
    /// The split brain resolver's stable-after (default 20 s): how long the membership must be stable before it
    /// downs unreachable nodes (keep-majority). Unreachable nodes are downed after this, and their sessions move.
    /// </summary>
    public TimeSpan StableAfter { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>How often nodes gossip membership (default 1 s; Akka's default). Shorter forms and leaves faster.</summary>
    public TimeSpan GossipInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a seed waits for other seeds before the first one forms the cluster alone (default 5 s).</summary>
    public TimeSpan SeedNodeTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often sharding retries registration and shard-home lookups (default 2 s; Akka's default).</summary>
    public TimeSpan ShardingRetryInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest a shard hand-off may take, evictions of its sessions included (default 60 s).</summary>
    public TimeSpan HandOffTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The largest message between nodes (default 16 MiB): a replay carries its whole sequence and its outputs,
    /// and a snapshot every layer's state.
    /// </summary>
    public int MaximumFrameSize { get; init; } = 16 * 1024 * 1024;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    internal void Validate()
    {
        Require(!string.IsNullOrWhiteSpace(SystemName) && SystemName.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'),
            $"SystemName is '{SystemName}'; expected letters, digits, '-' or '_'.");
        Require(!string.IsNullOrWhiteSpace(Hostname) && !Hostname.Any(c => c is '"' or '\\' or ' '), $"Hostname is '{Hostname}'; expected a host name or IP address.");
        Require(Port is >= 0 and <= 65535, $"Port is {Port}; expected 0 to 65535.");
        ArgumentNullException.ThrowIfNull(SeedNodes, nameof(SeedNodes));
        ArgumentNullException.ThrowIfNull(Roles, nameof(Roles));
        foreach (var seed in SeedNodes)
        {
            Require(!string.IsNullOrWhiteSpace(seed) && !seed.Any(c => c is '"' or '\\' or ' ') && (seed.Contains("://", StringComparison.Ordinal) || seed.Contains(':', StringComparison.Ordinal)),
                $"the seed node '{seed}' is neither host:port nor an address such as akka.tcp://{SystemName}@host:port.");
        }

        foreach (var role in Roles)
        {
            Require(!string.IsNullOrWhiteSpace(role) && !role.Any(c => c is '"' or '\\'), $"the role '{role}' is empty or has a quote or backslash.");
        }

        Require(StableAfter > TimeSpan.Zero, $"StableAfter is {StableAfter}; expected a positive duration.");
        Require(GossipInterval > TimeSpan.Zero, $"GossipInterval is {GossipInterval}; expected a positive duration.");
        Require(SeedNodeTimeout > TimeSpan.Zero, $"SeedNodeTimeout is {SeedNodeTimeout}; expected a positive duration.");
        Require(ShardingRetryInterval > TimeSpan.Zero, $"ShardingRetryInterval is {ShardingRetryInterval}; expected a positive duration.");
        Require(HandOffTimeout > TimeSpan.Zero, $"HandOffTimeout is {HandOffTimeout}; expected a positive duration.");
        Require(MaximumFrameSize >= 32 * 1024, $"MaximumFrameSize is {MaximumFrameSize}; expected at least 32768 bytes.");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException("cluster node settings: " + message);
        }
    }
}
