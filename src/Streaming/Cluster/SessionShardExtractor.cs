using System.Globalization;
using System.Text;
using Akka.Cluster.Sharding;

namespace Streaming.Cluster;

/// <summary>
/// Maps a session id to its entity (the id itself) and its shard: FNV-1a of the id's UTF-8 bytes modulo the number
/// of shards. The hash is fixed (never <see cref="string.GetHashCode()"/>, which differs between processes), so every
/// node computes the same shard for a session.
/// </summary>
internal sealed class SessionShardExtractor(int numberOfShards) : IMessageExtractor
{
    public string? EntityId(object message) => message is SessionCommand command ? command.SessionId : null;

    public object? EntityMessage(object message) => message;

    public string? ShardId(object message) => message is SessionCommand command ? ShardOf(command.SessionId, numberOfShards) : null;

    public string ShardId(string entityId, object? messageHint = null) => ShardOf(entityId, numberOfShards);

    /// <summary>The shard of <paramref name="sessionId"/> among <paramref name="shards"/>: "0" to shards - 1.</summary>
    public static string ShardOf(string sessionId, int shards)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(sessionId))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return (hash % (uint)shards).ToString(CultureInfo.InvariantCulture);
    }
}
