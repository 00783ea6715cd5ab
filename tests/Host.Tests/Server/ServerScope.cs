using Akka.Actor;
using Streaming;
using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Sequences;
using Streaming.Cells.Weights;
using Streaming.Client;
using Streaming.Host.Server;

namespace Host.Tests.Server;

/// <summary>An actor system, an engine for a random model and a server on a free loopback port; disposing stops all three.</summary>
internal sealed class ServerScope : IAsyncDisposable
{
    private ServerScope(ActorSystem system, RecurrentEngine engine, StreamingServer server, ModelWeights weights)
    {
        System = system;
        Engine = engine;
        Server = server;
        Weights = weights;
    }

    public ActorSystem System { get; }

    public RecurrentEngine Engine { get; }

    public StreamingServer Server { get; }

    public ModelWeights Weights { get; }

    public int Port => Server.Endpoint.Port;

    /// <summary>A small LSTM: input 3, hidden 5, two layers.</summary>
    public static ModelSpec SmallLstm { get; } = new(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 3, HiddenSize: 5, NumLayers: 2));

    public static async Task<ServerScope> StartAsync(ModelSpec? spec = null, ServerOptions? options = null, EngineOptions? engineOptions = null, ServerProbes? probes = null, Func<ISessionService, ISessionService>? serve = null)
    {
        var weights = ModelWeights.CreateRandom(spec ?? SmallLstm, seed: 7);
        var system = ActorSystem.Create("server-test", "akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING\nakka.log-dead-letters = off");
        try
        {
            var engine = await RecurrentEngine.StartAsync(system, ModelIdentity.Of("test-model", weights), weights, engineOptions);
            var server = await StreamingServer.StartAsync(system, serve is null ? engine : serve(engine), (options ?? ServerOptions.Default) with { Host = "127.0.0.1", Port = 0 }, logger: null, probes);
            return new ServerScope(system, engine, server, weights);
        }
        catch
        {
            await system.Terminate();
            throw;
        }
    }

    /// <summary>
    /// Completes once the server's counters satisfy <paramref name="condition"/>: what a test waits for when the server
    /// offers nothing to await (a connection stopped, a connection paused at its bound); fails after 20 s naming <paramref name="what"/>.
    /// </summary>
    public Task UntilAsync(Func<ServerStatistics, bool> condition, string what) => Until(() => condition(Server.Statistics), what);

    /// <summary>Completes once <paramref name="condition"/> holds, checking every 5 ms; fails after 20 s naming <paramref name="what"/>.</summary>
    public static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"gave up waiting for {what}");
            await Task.Delay(5);
        }
    }

    public Task<StreamingClient> ConnectAsync() => StreamingClient.ConnectAsync("127.0.0.1", Port);

    /// <summary>The bulk call's outputs for one sequence from zeros: what every streamed output must equal.</summary>
    public float[][] Expected(IReadOnlyList<float[]> inputs)
    {
        using var model = new RecurrentModel(RecurrentBackends.Create(Weights, BackendOptions.Managed));
        var width = model.Spec.OutputSize;
        var result = model.Forward(SequenceInput.FromVectors(inputs.SelectMany(x => x).ToArray(), inputs.Count, 1));
        return Enumerable.Range(0, inputs.Count).Select(t => result.Output.Slice(t * width, width).ToArray()).ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Server.StopAsync();
            await Engine.DisposeAsync();
        }
        finally
        {
            await System.Terminate();
        }
    }
}
