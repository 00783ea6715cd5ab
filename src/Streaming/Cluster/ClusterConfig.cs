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
                serializers {
                  rnn-sessions = "{{serializer.FullName}}, {{serializer.Assembly.GetName().Name}}"
                }
                serialization-bindings {
                  "{{messages.FullName}}, {{messages.Assembly.GetName().Name}}" = rnn-sessions
                }
              }
              remote.dot-netty.tcp {
                hostname = "{{settings.Hostname}}"
                port = {{settings.Port}}
                maximum-frame-size = {{settings.MaximumFrameSize}}b
                send-buffer-size = {{Math.Max(256000, settings.MaximumFrameSize)}}b
                receive-buffer-size = {{Math.Max(256000, settings.MaximumFrameSize)}}b
              }
              cluster {
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
