using System.Globalization;
using System.Text;
using Akka.Configuration;

namespace Streaming.Cluster;

/// <summary>
/// The Akka configuration a node of a sessions cluster needs: the cluster provider, Akka.Remote over DotNetty TCP,
/// seed nodes, sharding without idle passivation or remembered entities, the split brain resolver (keep-majority),
/// and the binding of the sessions' messages to <see cref="SessionMessageSerializer"/>.
/// </summary>
public static class ClusterConfig
{
    /// <summary>The node's HOCON; combine it with other settings through <see cref="Config.WithFallback"/>.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public static string Hocon(ClusterNodeSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var seeds = string.Join(", ", settings.SeedNodes.Select(seed => Quote(seed.Contains("://", StringComparison.Ordinal) ? seed : $"akka.tcp://{settings.SystemName}@{seed}")));
        var roles = string.Join(", ", settings.Roles.Select(Quote));
        var messages = typeof(ISessionMessage);
        var serializer = typeof(SessionMessageSerializer);
        var hocon = new StringBuilder();
        hocon.Append(CultureInfo.InvariantCulture, $$"""
            akka {
              actor {
                provider = cluster
                # Sharding, its singleton coordinator and distributed data add their serializers to the actor system only
                # when their extensions start, which on a serve node is seconds after it joined (the engine and its kernel
                # check come first). Messages the other nodes' shard regions, coordinators and replicators send before
                # then failed with "Deserialization failed ... Serializer Id [12]/[13]". Bound here, they are known from
                # the start; the same names and ids as the extensions' own configuration.
                serializers {
                  rnn-sessions = "{{serializer.FullName}}, {{serializer.Assembly.GetName().Name}}"
                  akka-sharding = "Akka.Cluster.Sharding.Serialization.ClusterShardingMessageSerializer, Akka.Cluster.Sharding"
                  akka-singleton = "Akka.Cluster.Tools.Singleton.Serialization.ClusterSingletonMessageSerializer, Akka.Cluster.Tools"
                  akka-data-replication = "Akka.DistributedData.Serialization.ReplicatorMessageSerializer, Akka.DistributedData"
                  akka-replicated-data = "Akka.DistributedData.Serialization.ReplicatedDataSerializer, Akka.DistributedData"
                }
                serialization-bindings {
                  "{{messages.FullName}}, {{messages.Assembly.GetName().Name}}" = rnn-sessions
                  "Akka.Cluster.Sharding.IClusterShardingSerializable, Akka.Cluster.Sharding" = akka-sharding
                  "Akka.Cluster.Tools.Singleton.IClusterSingletonMessage, Akka.Cluster.Tools" = akka-singleton
                  "Akka.DistributedData.IReplicatorMessage, Akka.DistributedData" = akka-data-replication
                  "Akka.DistributedData.IReplicatedDataSerialization, Akka.DistributedData" = akka-replicated-data
                }
                serialization-identifiers {
                  "Akka.Cluster.Sharding.Serialization.ClusterShardingMessageSerializer, Akka.Cluster.Sharding" = 13
                  "Akka.Cluster.Tools.Singleton.Serialization.ClusterSingletonMessageSerializer, Akka.Cluster.Tools" = 14
                  "Akka.DistributedData.Serialization.ReplicatorMessageSerializer, Akka.DistributedData" = 12
                  "Akka.DistributedData.Serialization.ReplicatedDataSerializer, Akka.DistributedData" = 11
                }
                # Membership, heartbeats and remoting on threads of their own: on the default executor (the .NET thread
                # pool) they queued behind the engine's batches and the connections' streams, and under load the gap
                # between heartbeats grew past two thirds of the acceptable pause ("heartbeat interval is growing too
                # large"; docs/operations.md).
                rnn-cluster-dispatcher {
                  type = Dispatcher
                  executor = fork-join-executor
                  fork-join-executor {
                    parallelism-min = 2
                    parallelism-factor = 1.0
                    parallelism-max = 2
                  }
                }
                rnn-remote-dispatcher {
                  type = Dispatcher
                  executor = fork-join-executor
                  fork-join-executor {
                    parallelism-min = 2
                    parallelism-factor = 1.0
                    parallelism-max = 4
                  }
                }
              }
              remote.use-dispatcher = "akka.actor.rnn-remote-dispatcher"
              remote.dot-netty.tcp {
                hostname = "{{settings.Hostname}}"
                port = {{settings.Port}}
                maximum-frame-size = {{settings.MaximumFrameSize}}b
                send-buffer-size = {{Math.Max(256000, settings.MaximumFrameSize)}}b
                receive-buffer-size = {{Math.Max(256000, settings.MaximumFrameSize)}}b
              }
              cluster {
                use-dispatcher = "akka.actor.rnn-cluster-dispatcher"
                seed-nodes = [{{seeds}}]
                roles = [{{roles}}]
                seed-node-timeout = {{Ms(settings.SeedNodeTimeout)}}
                gossip-interval = {{Ms(settings.GossipInterval)}}
                leader-actions-interval = {{Ms(settings.GossipInterval)}}
                downing-provider-class = "Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster"
                split-brain-resolver {
                  active-strategy = keep-majority
                  stable-after = {{Ms(settings.StableAfter)}}
                }
                sharding {
                  remember-entities = off
                  passivate-idle-entity-after = off
                  state-store-mode = ddata
                  retry-interval = {{Ms(settings.ShardingRetryInterval)}}
                  handoff-timeout = {{Ms(settings.HandOffTimeout)}}
                }
              }
            }

            """);
        return hocon.ToString();
    }

    /// <summary>The node's configuration, parsed from <see cref="Hocon"/>.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public static Config Create(ClusterNodeSettings settings) => ConfigurationFactory.ParseString(Hocon(settings));

    private static string Quote(string value) => "\"" + value + "\"";

    private static string Ms(TimeSpan span) => ((long)Math.Ceiling(span.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";
}
