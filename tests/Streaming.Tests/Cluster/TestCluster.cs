using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Cluster.Sharding;
using Akka.Configuration;
using Streaming.Cells.Weights;
using Streaming.Cluster;
using Streaming.Persistence;

namespace Streaming.Tests.Cluster;

/// <summary>
/// In-process cluster nodes on 127.0.0.1, each an actor system on a free port with its own engine (Managed backend)
/// and its <see cref="ShardedSessions"/>, all on one shared store; disposing terminates every node.
/// </summary>
internal sealed class TestCluster : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private TestCluster(IReadOnlyList<Node> nodes, InMemorySnapshotStore store)
    {
        Nodes = nodes;
        Store = store;
    }

    public IReadOnlyList<Node> Nodes { get; }

    public InMemorySnapshotStore Store { get; }

    /// <summary>Short timings: loopback needs no patience, and tests should not wait on production defaults.</summary>
    public static ClusterNodeSettings Settings(int port, int seedPort) => new()
    {
        SystemName = "sessions-test",
        Hostname = "127.0.0.1",
        Port = port,
        SeedNodes = [$"127.0.0.1:{seedPort}"],
        GossipInterval = TimeSpan.FromMilliseconds(200),
        StableAfter = TimeSpan.FromSeconds(3),
        SeedNodeTimeout = TimeSpan.FromSeconds(1),
        ShardingRetryInterval = TimeSpan.FromMilliseconds(200),
        HandOffTimeout = TimeSpan.FromSeconds(20),
    };

    public static async Task<TestCluster> StartAsync(int count, ModelIdentity identity, ModelWeights weights, EngineOptions? engineOptions = null, ShardingOptions? sharding = null)
    {
        var store = new InMemorySnapshotStore();
        var ports = FreePorts(count);
        var nodes = new List<Node>();
        var cluster = new TestCluster(nodes, store);
        try
        {
            for (var i = 0; i < count; i++)
            {
                nodes.Add(await Node.StartAsync(Settings(ports[i], ports[0]), identity, weights, (engineOptions ?? new EngineOptions()) with { Store = store }, sharding));
            }

            await AwaitAsync(async () =>
            {
                foreach (var node in nodes)
                {
                    if (Akka.Cluster.Cluster.Get(node.System).State.Members.Count(m => m.Status == Akka.Cluster.MemberStatus.Up) != count
                        || (await node.Sessions.RegionsAsync()).Count != count || !node.Sessions.IsReady)
                    {
                        return false;
                    }
                }

                return true;
            }, $"{count} nodes up with their shard regions registered, each ready");
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>The index of the node whose shard region hosts <paramref name="sessionId"/>'s entity, or -1.</summary>
    public async Task<int> OwnerOfAsync(string sessionId)
    {
        for (var i = 0; i < Nodes.Count; i++)
        {
            if (Nodes[i].System.WhenTerminated.IsCompleted)
            {
                continue;
            }

            var state = await Nodes[i].Sessions.Region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, TimeSpan.FromSeconds(10));
            if (state.Shards.Any(shard => shard.EntityIds.Contains(sessionId)))
            {
                return i;
            }
        }

        return -1;
    }

    public static async Task AwaitAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"gave up waiting for: {what}");
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Terminating every node at once: no hand-offs are needed, the test is over.
        await Task.WhenAll(Nodes.Select(n => n.DisposeAsync().AsTask()));
    }

    internal static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners)
            {
                listener.Start();
            }

            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    internal sealed class Node : IAsyncDisposable
    {
        private Node(ActorSystem system, RecurrentEngine engine, ShardedSessions sessions)
        {
            System = system;
            Engine = engine;
            Sessions = sessions;
        }

        public ActorSystem System { get; }

        public RecurrentEngine Engine { get; }

        public ShardedSessions Sessions { get; }

        public static async Task<Node> StartAsync(ClusterNodeSettings settings, ModelIdentity identity, ModelWeights weights, EngineOptions options, ShardingOptions? sharding)
        {
            var config = ClusterConfig.Create(settings).WithFallback(ConfigurationFactory.ParseString(
                "akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING\nakka.log-dead-letters = off\nakka.coordinated-shutdown.run-by-clr-shutdown-hook = off\n" +
                // Teardown terminates every node at once: no leaving, no hand-offs (a test that leaves runs CoordinatedShutdown itself).
                "akka.coordinated-shutdown.run-by-actor-system-terminate = off"));
            var system = ActorSystem.Create(settings.SystemName, config);
            try
            {
                var engine = await RecurrentEngine.StartAsync(system, identity, weights, options);
                return new Node(system, engine, await ShardedSessions.StartAsync(system, engine, sharding));
            }
            catch
            {
                await system.Terminate();
                throw;
            }
        }

        /// <summary>Leaves the cluster gracefully: its shards (and sessions) hand off to the others, then its system terminates.</summary>
        public Task LeaveAsync() => CoordinatedShutdown.Get(System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance);

        public async ValueTask DisposeAsync()
        {
            try
            {
                await System.Terminate();
            }
            finally
            {
                await Engine.DisposeAsync();
            }
        }
    }
}
