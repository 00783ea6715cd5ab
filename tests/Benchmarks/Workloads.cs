using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Benchmarks;

/// <summary>Models and inputs for the scenarios, with weights drawn as PyTorch initialises them.</summary>
internal static class Workloads
{
    /// <summary>Workload W of the design brief: LSTM, 2 layers, input 256, hidden 256.</summary>
    public static RecurrentSpec W { get; } = new(RecurrentMode.Lstm, InputSize: 256, HiddenSize: 256, NumLayers: 2);

    public static ModelWeights Weights(RecurrentSpec spec, int seed) => ModelWeights.CreateRandom(new ModelSpec(spec), seed);

    public static float[] Values(Random random, int count, double scale = 1)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2 - 1) * scale);
        }

        return values;
    }
}
