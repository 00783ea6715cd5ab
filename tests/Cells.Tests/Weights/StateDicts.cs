using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Tests.Weights;

/// <summary>State_dicts written out by hand from PyTorch's documented parameter shapes, with distinct values.</summary>
internal static class StateDicts
{
    /// <summary>Every parameter <paramref name="spec"/> needs, named as PyTorch names it, bare or with the spec's prefixes.</summary>
    public static Dictionary<string, FloatTensor> For(ModelSpec spec)
    {
        var p = spec.KeyPrefixes;
        var r = spec.Recurrent;
        var gates = r.Mode.GateCount() * r.HiddenSize;
        var tensors = new Dictionary<string, FloatTensor>();
        var next = 0f;

        void Add(string key, params int[] shape)
        {
            var values = new float[shape.Aggregate(1, (a, b) => a * b)];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = next++ / 1000f;
            }

            tensors[key] = new FloatTensor(shape, values);
        }

        for (var layer = 0; layer < r.NumLayers; layer++)
        {
            var input = layer == 0 ? r.InputSize : r.Directions * r.OutputSize;
            foreach (var suffix in r.Bidirectional ? new[] { "", "_reverse" } : [""])
            {
                Add($"{p.Recurrent}weight_ih_l{layer}{suffix}", gates, input);
                Add($"{p.Recurrent}weight_hh_l{layer}{suffix}", gates, r.OutputSize);
                if (r.Bias)
                {
                    Add($"{p.Recurrent}bias_ih_l{layer}{suffix}", gates);
                    Add($"{p.Recurrent}bias_hh_l{layer}{suffix}", gates);
                }

                if (r.ProjSize > 0)
                {
                    Add($"{p.Recurrent}weight_hr_l{layer}{suffix}", r.ProjSize, r.HiddenSize);
                }
            }
        }

        if (spec.Embedding is { } e)
        {
            Add($"{p.Embedding}weight", e.NumEmbeddings, e.EmbeddingDim);
        }

        if (spec.Head is { } h)
        {
            Add($"{p.Head}weight", h.OutFeatures, r.Directions * r.OutputSize);
            if (h.Bias)
            {
                Add($"{p.Head}bias", h.OutFeatures);
            }
        }

        return tensors;
    }
}
