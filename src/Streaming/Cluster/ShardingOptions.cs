namespace Streaming.Cluster;

/// <summary>How <see cref="ShardedSessions"/> shards sessions. Every node of a cluster must use the same values.</summary>
public sealed record ShardingOptions
{
    /// <summary>The defaults.</summary>
    public static ShardingOptions Default { get; } = new();

    /// <summary>
    /// The number of shards session ids are hashed into (default 100). Shards are the unit that moves between nodes;
    /// about ten times the largest number of nodes is usual. Changing it remaps sessions, so it is fixed for a
    /// cluster's life (sessions persisted in the store stay valid: they load wherever their shard now lives).
    /// </summary>
    public int NumberOfShards { get; init; } = 100;

    /// <summary>The sharded entity type's name (default "rnn-session"); one per model served in the same cluster.</summary>
    public string TypeName { get; init; } = "rnn-session";

    /// <summary>The cluster role of the nodes that host sessions, or null (default) for every node.</summary>
    public string? Role { get; init; }

    /// <summary>
    /// How long a call waits for the session's owner to answer (default 30 s). A call without an answer fails with
    /// an <see cref="EngineException"/> of code <see cref="EngineErrorCode.EngineStopped"/> that says
    /// so; the operation may or may not have been applied (tokens sent with <see cref="Token.At"/> can be resent
    /// safely).
    /// </summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a token sent with <see cref="Token.At"/> waits for its answer before it is sent again (default 2 s).
    /// Akka.Cluster.Sharding delivers at most once: while a shard hands off, messages already forwarded to its old
    /// node are dropped. A token with a position can be resent safely (the engine refuses a second copy with
    /// DuplicateToken, whose answer is ignored here, and the first copy's output still comes), so such tokens are
    /// resent until answered or until <see cref="AskTimeout"/>. Operations without a position are never resent.
    /// </summary>
    public TimeSpan ResendAfter { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a session being handed off keeps trying to save itself into the store when the store fails (default
    /// 20 s): it stays resident on its old node and is retried with back-off (100 ms doubling to 2 s); past this it
    /// moves without its state since its last persisted snapshot, and is counted in
    /// <see cref="ShardedSessions.UnsavedHandOffs"/>. Keep it below the coordinated shutdown's
    /// <c>cluster-sharding-shutdown-region</c> phase timeout, or the leave goes on without waiting for the retries.
    /// </summary>
    public TimeSpan HandOffSaveDeadline { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    internal void Validate()
    {
        Require(NumberOfShards >= 1, $"NumberOfShards is {NumberOfShards}; expected 1 or more.");
        Require(!string.IsNullOrWhiteSpace(TypeName), "TypeName is empty; expected a name such as \"rnn-session\".");
        Require(Role is null || !string.IsNullOrWhiteSpace(Role), "Role is empty; expected null (every node) or a role name.");
        Require(AskTimeout > TimeSpan.Zero, $"AskTimeout is {AskTimeout}; expected a positive duration.");
        Require(ResendAfter >= TimeSpan.FromMilliseconds(10), $"ResendAfter is {ResendAfter}; expected 10 ms or more.");
        Require(HandOffSaveDeadline >= TimeSpan.Zero, $"HandOffSaveDeadline is {HandOffSaveDeadline}; expected zero (no retry) or a positive duration.");
    }

    private static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new ArgumentException("sharding options: " + message);
        }
    }
}
