using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Tests.Oracle;

/// <summary>Random weights and inputs for specs libtorch's modules cannot build (proj_size) and for embeddings and heads.</summary>
internal static class RandomWeights
{
    public static ModelWeights For(ModelSpec spec, int seed) => ModelWeights.CreateRandom(spec, seed);

    public static float[] Vector(Random random, int count, double scale = 1) =>
        Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();
}
