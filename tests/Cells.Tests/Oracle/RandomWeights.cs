using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Tests.Oracle;

/// <summary>
/// Weights drawn as PyTorch initialises recurrent modules, uniform(-1/sqrt(hidden), 1/sqrt(hidden)), for
/// specs libtorch's modules cannot build (proj_size) and for embedding and head parameters.
/// </summary>
internal static class RandomWeights
{
    public static ModelWeights For(ModelSpec spec, int seed)
    {
        var random = new Random(seed);
        var bound = 1 / Math.Sqrt(spec.Recurrent.HiddenSize);
        var tensors = new Dictionary<string, FloatTensor>();
        var prefixes = spec.KeyPrefixes;
        var r = spec.Recurrent;
        for (var layer = 0; layer < r.NumLayers; layer++)
        {
            var gates = r.Mode.GateCount() * r.HiddenSize;
            for (var d = 0; d < r.Directions; d++)
            {
                void Add(string p, params int[] shape) =>
                    tensors[WeightKeys.Recurrent(prefixes, p, layer, d)] = Uniform(random, bound, shape);
                Add("weight_ih", gates, r.LayerInputSize(layer));
                Add("weight_hh", gates, r.OutputSize);
                if (r.Bias)
                {
                    Add("bias_ih", gates);
                    Add("bias_hh", gates);
                }

                if (r.ProjSize > 0)
                {
                    Add("weight_hr", r.ProjSize, r.HiddenSize);
                }
            }
        }

        if (spec.Embedding is { } e)
        {
            tensors[WeightKeys.EmbeddingWeight(prefixes)] = Uniform(random, 1, e.NumEmbeddings, e.EmbeddingDim);
        }

        if (spec.Head is { } h)
        {
            var headBound = 1 / Math.Sqrt(spec.RecurrentOutputSize);
            tensors[WeightKeys.HeadWeight(prefixes)] = Uniform(random, headBound, h.OutFeatures, spec.RecurrentOutputSize);
            if (h.Bias)
            {
                tensors[WeightKeys.HeadBias(prefixes)] = Uniform(random, headBound, h.OutFeatures);
            }
        }

        return ModelWeights.FromTensors(spec, tensors);
    }

    public static float[] Vector(Random random, int count, double scale = 1) =>
        Enumerable.Range(0, count).Select(_ => (float)((random.NextDouble() * 2 - 1) * scale)).ToArray();

    private static FloatTensor Uniform(Random random, double bound, params int[] shape) =>
        new(shape, Vector(random, shape.Aggregate(1, (a, b) => a * b), bound));
}
