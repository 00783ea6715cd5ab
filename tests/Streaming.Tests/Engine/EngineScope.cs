using Akka.Actor;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;
using Streaming.Sessions;

namespace Streaming.Tests.Engine;

/// <summary>An actor system of its own and an engine in it; disposing stops the engine and terminates the system.</summary>
internal sealed class EngineScope : IAsyncDisposable
{
    private EngineScope(ActorSystem system, RecurrentEngine engine)
    {
        System = system;
        Engine = engine;
    }

    public ActorSystem System { get; }

    public RecurrentEngine Engine { get; }

    public static async Task<EngineScope> StartAsync(ModelIdentity identity, ModelWeights weights, EngineOptions? options = null)
    {
        var system = ActorSystem.Create("engine-test", "akka.loglevel = WARNING\nakka.stdout-loglevel = WARNING");
        try
        {
            return new EngineScope(system, await RecurrentEngine.StartAsync(system, identity, weights, options));
        }
        catch
        {
            await system.Terminate();
            throw;
        }
    }

    public static Task<EngineScope> StartAsync(ModelSpec spec, EngineOptions? options = null, int seed = 1)
    {
        var (identity, weights) = TestModels.Create(spec, seed);
        return StartAsync(identity, weights, options);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Engine.DisposeAsync();
        }
        finally
        {
            await System.Terminate();
        }
    }
}
