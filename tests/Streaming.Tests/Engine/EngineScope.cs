using Akka.Actor;
using Streaming.Cells.Model;
using Streaming.Cells.Weights;

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

    /// <summary>The outputs of <paramref name="tokens"/> pushed in order to one session of a fresh engine that never passivates.</summary>
    public static async Task<float[][]> OutputsAloneAsync(ModelIdentity identity, ModelWeights weights, IReadOnlyList<Token> tokens, EngineOptions? options = null)
    {
        await using var steady = await StartAsync(identity, weights, options);
        await steady.Engine.OpenAsync("a");
        var outputs = new float[tokens.Count][];
        for (var t = 0; t < tokens.Count; t++)
        {
            outputs[t] = (await steady.Engine.PushAsync("a", tokens[t])).Output.ToArray();
        }

        return outputs;
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
