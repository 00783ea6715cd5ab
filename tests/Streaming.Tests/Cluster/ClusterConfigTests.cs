using Streaming.Cluster;

namespace Streaming.Tests.Cluster;

public sealed class ClusterConfigTests
{
    [Fact]
    public void The_node_config_sets_cluster_remote_seeds_sharding_the_resolver_and_the_serializer()
    {
        var config = ClusterConfig.Create(new ClusterNodeSettings
        {
            SystemName = "prod",
            Hostname = "10.0.0.5",
            Port = 4100,
            SeedNodes = ["10.0.0.1:4053", "akka.tcp://prod@10.0.0.2:4053"],
            Roles = ["sessions"],
            StableAfter = TimeSpan.FromSeconds(7),
        });

        Assert.Equal("cluster", config.GetString("akka.actor.provider"));
        Assert.Equal("10.0.0.5", config.GetString("akka.remote.dot-netty.tcp.hostname"));
        Assert.Equal(4100, config.GetInt("akka.remote.dot-netty.tcp.port"));
        Assert.Equal(["akka.tcp://prod@10.0.0.1:4053", "akka.tcp://prod@10.0.0.2:4053"], config.GetStringList("akka.cluster.seed-nodes"));
        Assert.Equal(["sessions"], config.GetStringList("akka.cluster.roles"));
        Assert.Equal("Akka.Cluster.SBR.SplitBrainResolverProvider, Akka.Cluster", config.GetString("akka.cluster.downing-provider-class"));
        Assert.Equal("keep-majority", config.GetString("akka.cluster.split-brain-resolver.active-strategy"));
        Assert.Equal(TimeSpan.FromSeconds(7), config.GetTimeSpan("akka.cluster.split-brain-resolver.stable-after"));
        Assert.False(config.GetBoolean("akka.cluster.sharding.remember-entities"));
        Assert.Equal("off", config.GetString("akka.cluster.sharding.passivate-idle-entity-after"));
        Assert.Equal("Streaming.Cluster.SessionMessageSerializer, Streaming", config.GetString("akka.actor.serializers.rnn-sessions"));
        Assert.Equal("rnn-sessions", config.GetString("akka.actor.serialization-bindings.\"Streaming.Cluster.ISessionMessage, Streaming\""));
    }

    [Fact]
    public async Task A_node_reads_sharding_and_distributed_data_messages_before_its_own_sharding_has_started()
    {
        // Another node's shard region and replicator send to a node that joined but has not started its sharding yet
        // (serve starts it after the engine and its kernel check): each message must deserialize there all the same.
        var settings = new ClusterNodeSettings { SystemName = "serializers", Port = 0 };
        var sender = Akka.Actor.ActorSystem.Create("serializers", ClusterConfig.Create(settings));
        var receiver = Akka.Actor.ActorSystem.Create("serializers", ClusterConfig.Create(settings));
        try
        {
            _ = Akka.Cluster.Sharding.ClusterSharding.Get(sender);
            _ = Akka.DistributedData.DistributedData.Get(sender);
            var messages = new object[]
            {
                new Akka.Cluster.Sharding.ShardRegion.StartEntity("session-1"),
                new Akka.DistributedData.Get(new Akka.DistributedData.ORSetKey<string>("key"), Akka.DistributedData.ReadLocal.Instance),
                Akka.DistributedData.ORSet<string>.Empty,
            };
            foreach (var message in messages)
            {
                var serializer = sender.Serialization.FindSerializerFor(message);
                var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, message);
                var read = receiver.Serialization.Deserialize(serializer.ToBinary(message), serializer.Identifier, manifest);
                Assert.Equal(message.GetType(), read.GetType());
            }

            Assert.Equal(new[] { 13, 12, 11 }, messages.Select(m => sender.Serialization.FindSerializerFor(m).Identifier));
        }
        finally
        {
            await Task.WhenAll(sender.Terminate(), receiver.Terminate());
        }
    }

    [Fact]
    public void Membership_and_remoting_run_on_threads_of_their_own()
    {
        var config = ClusterConfig.Create(new ClusterNodeSettings());
        Assert.Equal("akka.actor.rnn-cluster-dispatcher", config.GetString("akka.cluster.use-dispatcher"));
        Assert.Equal("akka.actor.rnn-remote-dispatcher", config.GetString("akka.remote.use-dispatcher"));
        Assert.Equal("fork-join-executor", config.GetString("akka.actor.rnn-cluster-dispatcher.executor"));
        Assert.Equal("fork-join-executor", config.GetString("akka.actor.rnn-remote-dispatcher.executor"));
    }

    [Theory]
    [InlineData("port", "Port is 70000")]
    [InlineData("seed", "the seed node 'nohost'")]
    [InlineData("system", "SystemName is 'a b'")]
    [InlineData("stable", "StableAfter is 00:00:00")]
    [InlineData("frame", "MaximumFrameSize is 100")]
    public void Bad_settings_are_refused_naming_the_setting(string which, string expected)
    {
        var settings = which switch
        {
            "port" => new ClusterNodeSettings { Port = 70000 },
            "seed" => new ClusterNodeSettings { SeedNodes = ["nohost"] },
            "system" => new ClusterNodeSettings { SystemName = "a b" },
            "stable" => new ClusterNodeSettings { StableAfter = TimeSpan.Zero },
            "frame" => new ClusterNodeSettings { MaximumFrameSize = 100 },
            _ => throw new ArgumentOutOfRangeException(nameof(which)),
        };
        var error = Assert.Throws<ArgumentException>(() => ClusterConfig.Hocon(settings));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "NumberOfShards is 0")]
    [InlineData(1, "AskTimeout is -00:00:01")]
    [InlineData(2, "ResendAfter is 00:00:00")]
    [InlineData(3, "TypeName is empty")]
    public void Bad_sharding_options_are_refused_naming_the_option(int which, string expected)
    {
        var options = which switch
        {
            0 => new ShardingOptions { NumberOfShards = 0 },
            1 => new ShardingOptions { AskTimeout = TimeSpan.FromSeconds(-1) },
            2 => new ShardingOptions { ResendAfter = TimeSpan.Zero },
            _ => new ShardingOptions { TypeName = " " },
        };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Session_ids_map_to_the_same_shard_in_every_process_and_spread_over_all_shards()
    {
        // FNV-1a is fixed: these values hold in any process, unlike string.GetHashCode.
        Assert.Equal(SessionShardExtractor.ShardOf("session-1", 100), SessionShardExtractor.ShardOf("session-1", 100));
        Assert.Equal("0", SessionShardExtractor.ShardOf("anything", 1));
        Assert.Equal((2166136261u % 100).ToString(System.Globalization.CultureInfo.InvariantCulture), SessionShardExtractor.ShardOf("", 100));
        var shards = Enumerable.Range(0, 5000).Select(i => SessionShardExtractor.ShardOf($"s{i}", 100)).ToHashSet();
        Assert.Equal(100, shards.Count);
    }
}
