using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Akka.Configuration;
using Streaming;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using Streaming.Client;
using Streaming.Client.Protocol;
using Streaming.Cluster;
using Streaming.Host.Server;
using ClientRequest = Streaming.Client.GenerationRequest;

namespace Host.Tests.Server;

/// <summary>A cluster node's server (its sessions are <see cref="ShardedSessions"/>) does not generate yet, and says so.</summary>
public sealed class ClusterGenerationTests
{
    private static readonly ModelSpec IdModel = new(
        new RecurrentSpec(RecurrentMode.Lstm, InputSize: 6, HiddenSize: 9, NumLayers: 1),
        new EmbeddingSpec(NumEmbeddings: 20, EmbeddingDim: 6),
        new HeadSpec(OutFeatures: 20));

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task A_Generate_to_a_cluster_node_is_refused_GenerationNotSupported_15_saying_a_cluster_node_does_not_generate_yet_and_the_session_goes_on()
    {
        var port = FreePort();
        var settings = new ClusterNodeSettings
        {
            SystemName = "generate-cluster",
            Port = port,
            SeedNodes = [$"127.0.0.1:{port}"],
            GossipInterval = TimeSpan.FromMilliseconds(200),
            StableAfter = TimeSpan.FromSeconds(3),
            SeedNodeTimeout = TimeSpan.FromSeconds(1),
            ShardingRetryInterval = TimeSpan.FromMilliseconds(200),
        };
        var config = ClusterConfig.Create(settings).WithFallback(ConfigurationFactory.ParseString(
            "akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING\nakka.log-dead-letters = off\n" +
            "akka.coordinated-shutdown.run-by-clr-shutdown-hook = off\nakka.coordinated-shutdown.run-by-actor-system-terminate = off"));
        var weights = ModelWeights.CreateRandom(IdModel, seed: 7);
        var system = ActorSystem.Create(settings.SystemName, config);
        var engine = await RecurrentEngine.StartAsync(system, ModelIdentity.Of("test-model", weights), weights);
        try
        {
            var sessions = await ShardedSessions.StartAsync(system, engine);
            await sessions.WhenReady.WaitAsync(TimeSpan.FromSeconds(60));
            await using var server = await StreamingServer.StartAsync(system, sessions, ServerOptions.Default with { Host = "127.0.0.1", Port = 0 });
            await using var client = await StreamingClient.ConnectAsync("127.0.0.1", server.Endpoint.Port);
            await client.OpenAsync("g");

            var error = await Assert.ThrowsAsync<StreamingClientException>(async () =>
            {
                await foreach (var step in client.GenerateAsync("g", ClientRequest.Of(5, 1, 2, 3)))
                {
                    Assert.Fail($"a cluster node generated step {step.Step}");
                }
            });

            Assert.Equal(((ushort)15, (SessionErrorCode?)SessionErrorCode.GenerationNotSupported, "g"), (error.Code, error.SessionCode, error.Session));
            Assert.Contains("generation is not served in cluster mode yet", error.Message, StringComparison.Ordinal);
            Assert.Contains("(ShardedSessions) does not generate", error.Message, StringComparison.Ordinal);
            // Refused, it changed nothing: the session's first token is still at position 0.
            Assert.Equal(1, (await client.PushAsync("g", TokenInput.Id(4).WithAt(0))).Position);
        }
        finally
        {
            // As a test cluster ends: the node's system first (no hand-offs), then its engine.
            await system.Terminate();
            await engine.DisposeAsync();
        }
    }
}
