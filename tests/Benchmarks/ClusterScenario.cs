using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Akka.Actor;
using Akka.Configuration;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using Streaming.Cluster;
using Streaming.Persistence;

namespace Streaming.Benchmarks;

/// <summary>
/// Sharded sessions on in-process cluster nodes (one actor system per node on 127.0.0.1, each with its own Managed
/// engine, one shared in-memory store): tokens/s through 1, 2 and 3 nodes against one engine called directly, and the
/// time a node's graceful leave takes to hand its sessions to the others. All nodes share this machine's cores, so
/// more nodes add routing, not compute: the figures show what routing and hand-off cost, not how a cluster scales.
/// </summary>
internal static class ClusterScenario
{
    private static readonly RecurrentSpec Spec = new(RecurrentMode.Lstm, InputSize: 32, HiddenSize: 64, NumLayers: 2);

    public static string Run(bool quick)
    {
        var weights = Workloads.Weights(Spec, seed: 1);
        var model = ModelIdentity.Of("cluster-bench", weights);
        int sessions = quick ? 128 : 512, tokens = quick ? 16 : 32, handOff = quick ? 300 : 1000;
        var text = new StringBuilder();
        text.AppendLine($"### Sharded sessions: LSTM 2 x 64 (input 32), Managed, {sessions} sessions x {tokens} tokens, 8 in flight per session, in-process nodes on loopback");
        text.AppendLine();
        text.AppendLine("| setup | tokens/s | of peak | vs one engine |");
        text.AppendLine("| --- | ---: | ---: | ---: |");
        var direct = Throughput(model, weights, 0, sessions, tokens);
        text.AppendLine($"| one engine, called directly | {direct:N0} | {MatrixPeak.OfTokens(direct, Spec)} | 1.00 |");
        foreach (var nodes in new[] { 1, 2, 3 })
        {
            var rate = Throughput(model, weights, nodes, sessions, tokens);
            text.AppendLine($"| {nodes} node(s), calls spread over all | {rate:N0} | {MatrixPeak.OfTokens(rate, Spec)} | {rate / direct:F2} |");
        }

        text.AppendLine();
        text.AppendLine(HandOff(model, weights, handOff));
        return text.ToString();
    }

    // Tokens/s of every session pushing its tokens with up to 8 in flight; nodes == 0: one engine called directly.
    private static double Throughput(ModelIdentity model, ModelWeights weights, int nodes, int sessions, int tokens)
    {
        var inputs = Workloads.Values(new Random(2), Spec.InputSize * tokens);
        if (nodes == 0)
        {
            using var system = ActorSystem.Create("direct", PipelineScenario.Quiet);
            var engine = RecurrentEngine.StartAsync(system, model, weights).GetAwaiter().GetResult();
            try
            {
                return Measure(engine, null, sessions, tokens, inputs);
            }
            finally
            {
                engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
                system.Terminate().Wait();
            }
        }

        var cluster = Start(model, weights, nodes);
        try
        {
            return Measure(null, cluster.Select(n => n.Sessions).ToArray(), sessions, tokens, inputs);
        }
        finally
        {
            Stop(cluster);
        }
    }

    private static double Measure(RecurrentEngine? engine, ShardedSessions[]? nodes, int sessions, int tokens, float[] inputs)
    {
        ISessionService Via(int s) => nodes is null ? engine! : nodes[s % nodes.Length];
        var ids = Enumerable.Range(0, sessions).Select(i => $"s{i}").ToArray();
        Task.WhenAll(ids.Select((id, s) => Via(s).OpenAsync(id))).GetAwaiter().GetResult();
        var offset = 0;
        double Round()
        {
            var start = Stopwatch.GetTimestamp();
            Task.WhenAll(ids.Select(async (id, s) =>
            {
                var window = new Queue<Task<TokenOutput>>();
                for (var t = 0; t < tokens; t++)
                {
                    var token = Token.Vector(inputs.AsMemory(t * Spec.InputSize, Spec.InputSize)) with { At = offset + t };
                    window.Enqueue(Via(s).PushAsync(id, token));
                    if (window.Count == 8)
                    {
                        await window.Dequeue();
                    }
                }

                await Task.WhenAll(window);
            })).GetAwaiter().GetResult();
            offset += tokens;
            return Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        Round(); // warm-up
        var times = Enumerable.Range(0, 3).Select(_ => Round()).Order().ToArray();
        return sessions * (double)tokens / times[1];
    }

    private static string HandOff(ModelIdentity model, ModelWeights weights, int sessions)
    {
        var cluster = Start(model, weights, 3);
        try
        {
            var ids = Enumerable.Range(0, sessions).Select(i => $"h{i}").ToArray();
            var token = Token.Vector(Workloads.Values(new Random(3), Spec.InputSize));
            Task.WhenAll(ids.Select((id, s) => cluster[s % 3].Sessions.OpenAsync(id))).GetAwaiter().GetResult();
            Task.WhenAll(ids.Select((id, s) => cluster[s % 3].Sessions.PushAsync(id, token with { At = 0 }))).GetAwaiter().GetResult();
            var leaver = cluster[2];
            var owned = leaver.Engine.Statistics.SessionsOpen;
            var start = Stopwatch.GetTimestamp();
            CoordinatedShutdown.Get(leaver.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).Wait();
            var left = Stopwatch.GetElapsedTime(start).TotalSeconds;
            // Every session answers again through the remaining nodes (the moved ones load from the store).
            Task.WhenAll(ids.Select((id, s) => cluster[s % 2].Sessions.PushAsync(id, token with { At = 1 }))).GetAwaiter().GetResult();
            var resumed = Stopwatch.GetElapsedTime(start).TotalSeconds;
            return $"Hand-off: 3 nodes, {sessions} sessions (each resident after one token); the leaving node owned {owned}. " +
                   $"CoordinatedShutdown (hand off every shard: evict its sessions into the store; leave; terminate) took {left:F2} s; " +
                   $"every session had answered its next token through the remaining nodes {resumed:F2} s after the leave began " +
                   "(gossip 200 ms, sharding retry 200 ms).";
        }
        finally
        {
            Stop(cluster);
        }
    }

    private sealed record Node(ActorSystem System, RecurrentEngine Engine, ShardedSessions Sessions);

    private static Node[] Start(ModelIdentity model, ModelWeights weights, int count)
    {
        var store = new InMemorySnapshotStore();
        var ports = FreePorts(count);
        var nodes = new List<Node>();
        for (var i = 0; i < count; i++)
        {
            var settings = new ClusterNodeSettings
            {
                SystemName = "bench", Port = ports[i], SeedNodes = [$"127.0.0.1:{ports[0]}"], GossipInterval = TimeSpan.FromMilliseconds(200),
                StableAfter = TimeSpan.FromSeconds(3), ShardingRetryInterval = TimeSpan.FromMilliseconds(200),
            };
            var config = ClusterConfig.Create(settings).WithFallback(ConfigurationFactory.ParseString(
                "akka.loglevel = ERROR\nakka.stdout-loglevel = ERROR\nakka.coordinated-shutdown.run-by-actor-system-terminate = off\nakka.coordinated-shutdown.run-by-clr-shutdown-hook = off"));
            var system = ActorSystem.Create(settings.SystemName, config);
            var engine = RecurrentEngine.StartAsync(system, model, weights, new EngineOptions { Store = store }).GetAwaiter().GetResult();
            nodes.Add(new Node(system, engine, ShardedSessions.StartAsync(system, engine).GetAwaiter().GetResult()));
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (nodes.Any(n => n.Sessions.RegionsAsync().GetAwaiter().GetResult().Count != count || Akka.Cluster.Cluster.Get(n.System).State.Members.Count != count || !n.Sessions.IsReady))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{count} nodes did not form a cluster within 60 s");
            }

            Thread.Sleep(50);
        }

        return nodes.ToArray();
    }

    private static void Stop(Node[] nodes)
    {
        // One node after another leaves the cluster and terminates, as a rolling shutdown does: terminated all at once, each
        // node's sharding kept sending to nodes whose remoting had stopped, and Akka logged every such send as an error.
        foreach (var node in nodes)
        {
            CoordinatedShutdown.Get(node.System).Run(CoordinatedShutdown.ClusterLeavingReason.Instance).Wait();
        }

        foreach (var node in nodes)
        {
            node.Engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        foreach (var listener in listeners)
        {
            listener.Start();
        }

        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        foreach (var listener in listeners)
        {
            listener.Stop();
        }

        return ports;
    }
}
