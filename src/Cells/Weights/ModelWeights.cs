using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Streaming.Cells.Model;

namespace Streaming.Cells.Weights;

/// <summary>
/// All parameters of a model, checked against its <see cref="ModelSpec"/>. Build one with
/// <see cref="FromTensors"/> (e.g. from a safetensors file) so every shape is validated.
/// </summary>
public sealed partial record ModelWeights
{
    private ModelWeights(
        ModelSpec spec,
        IReadOnlyList<IReadOnlyList<LayerWeights>> layers,
        FloatTensor? embedding,
        FloatTensor? headWeight,
        FloatTensor? headBias)
    {
        Spec = spec;
        Layers = layers;
        Embedding = embedding;
        HeadWeight = headWeight;
        HeadBias = headBias;
    }

    /// <summary>The model these weights belong to.</summary>
    public ModelSpec Spec { get; }

    /// <summary>Recurrent parameters, indexed [layer][direction] (0 forward, 1 reverse).</summary>
    public IReadOnlyList<IReadOnlyList<LayerWeights>> Layers { get; }

    /// <summary>The embedding matrix (num_embeddings, embedding_dim), when the model has one.</summary>
    public FloatTensor? Embedding { get; }

    /// <summary>The head's weight (out_features, recurrent output size), when the model has a head.</summary>
    public FloatTensor? HeadWeight { get; }

    /// <summary>The head's bias (out_features), when the head has one.</summary>
    public FloatTensor? HeadBias { get; }

    /// <summary>
    /// Picks and checks the parameters of <paramref name="spec"/> from state_dict-named tensors. Keys that
    /// look like recurrent parameters the spec does not describe (a layer too many, biases on a model
    /// without bias, a projection on a model without proj_size) are errors, since they mean the manifest
    /// and the file disagree; other keys belong to other modules and are ignored.
    /// </summary>
    /// <exception cref="WeightsMismatchException">A key is missing, has the wrong shape, or is unexpected.</exception>
    public static ModelWeights FromTensors(ModelSpec spec, IReadOnlyDictionary<string, FloatTensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(tensors);
        spec.Validate();
        var prefixes = spec.KeyPrefixes;
        var r = spec.Recurrent;
        var expected = new HashSet<string>(StringComparer.Ordinal);

        FloatTensor Take(string key, params int[] shape)
        {
            expected.Add(key);
            if (!tensors.TryGetValue(key, out var t))
            {
                throw new WeightsMismatchException(
                    $"weights: key '{key}' is missing; expected a tensor of shape {FloatTensor.Describe(shape)}.");
            }

            if (!t.HasShape(shape))
            {
                throw new WeightsMismatchException(
                    $"weights: key '{key}' has shape {t.ShapeText}; expected {FloatTensor.Describe(shape)}.");
            }

            return t;
        }

        var layers = new List<IReadOnlyList<LayerWeights>>(r.NumLayers);
        for (var layer = 0; layer < r.NumLayers; layer++)
        {
            var shape = r.Layer(layer);
            var gates = shape.GateCount * r.HiddenSize;
            var directions = new List<LayerWeights>(r.Directions);
            for (var d = 0; d < r.Directions; d++)
            {
                string Key(string p) => WeightKeys.Recurrent(prefixes, p, layer, d);
                directions.Add(new LayerWeights(
                    Take(Key("weight_ih"), gates, shape.InputSize),
                    Take(Key("weight_hh"), gates, r.OutputSize),
                    r.Bias ? Take(Key("bias_ih"), gates) : null,
                    r.Bias ? Take(Key("bias_hh"), gates) : null,
                    r.ProjSize > 0 ? Take(Key("weight_hr"), r.ProjSize, r.HiddenSize) : null));
            }

            layers.Add(directions);
        }

        var embedding = spec.Embedding is { } e
            ? Take(WeightKeys.EmbeddingWeight(prefixes), e.NumEmbeddings, e.EmbeddingDim)
            : null;
        FloatTensor? headWeight = null, headBias = null;
        if (spec.Head is { } h)
        {
            headWeight = Take(WeightKeys.HeadWeight(prefixes), h.OutFeatures, spec.RecurrentOutputSize);
            headBias = h.Bias ? Take(WeightKeys.HeadBias(prefixes), h.OutFeatures) : null;
        }

        var pattern = RecurrentKeyPattern();
        var unexpected = tensors.Keys
            .Where(k => !expected.Contains(k) && k.StartsWith(prefixes.Recurrent, StringComparison.Ordinal)
                        && pattern.IsMatch(k[prefixes.Recurrent.Length..]))
            .Order(StringComparer.Ordinal)
            .ToList();
        if (unexpected.Count > 0)
        {
            throw new WeightsMismatchException(
                $"weights: unexpected recurrent key(s) {string.Join(", ", unexpected.Select(k => $"'{k}'"))}; the manifest describes " +
                $"{r.Mode.ToTorchName()} with num_layers={r.NumLayers}, bias={r.Bias}, bidirectional={r.Bidirectional}, proj_size={r.ProjSize}.");
        }

        return new ModelWeights(spec, layers, embedding, headWeight, headBias);
    }

    /// <summary>
    /// Weights drawn the way PyTorch initialises its modules: recurrent parameters uniform in
    /// (-1/sqrt(hidden_size), 1/sqrt(hidden_size)), the head's in (-1/sqrt(in_features), 1/sqrt(in_features)),
    /// the embedding's uniform in (-1, 1). Deterministic for a given <paramref name="seed"/>; meant for tests,
    /// benchmarks and demonstrations, not for training.
    /// </summary>
    public static ModelWeights CreateRandom(ModelSpec spec, int seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var random = new Random(seed);
        var bound = 1 / Math.Sqrt(spec.Recurrent.HiddenSize);
        var tensors = new Dictionary<string, FloatTensor>(StringComparer.Ordinal);
        var prefixes = spec.KeyPrefixes;
        var r = spec.Recurrent;

        FloatTensor Uniform(double range, params int[] shape)
        {
            var values = new float[shape.Aggregate(1, (a, b) => a * b)];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = (float)((random.NextDouble() * 2 - 1) * range);
            }

            return new FloatTensor(shape, values);
        }

        for (var layer = 0; layer < r.NumLayers; layer++)
        {
            var gates = r.Mode.GateCount() * r.HiddenSize;
            for (var d = 0; d < r.Directions; d++)
            {
                string Key(string p) => WeightKeys.Recurrent(prefixes, p, layer, d);
                tensors[Key("weight_ih")] = Uniform(bound, gates, r.LayerInputSize(layer));
                tensors[Key("weight_hh")] = Uniform(bound, gates, r.OutputSize);
                if (r.Bias)
                {
                    tensors[Key("bias_ih")] = Uniform(bound, gates);
                    tensors[Key("bias_hh")] = Uniform(bound, gates);
                }

                if (r.ProjSize > 0)
                {
                    tensors[Key("weight_hr")] = Uniform(bound, r.ProjSize, r.HiddenSize);
                }
            }
        }

        if (spec.Embedding is { } e)
        {
            tensors[WeightKeys.EmbeddingWeight(prefixes)] = Uniform(1, e.NumEmbeddings, e.EmbeddingDim);
        }

        if (spec.Head is { } h)
        {
            var headBound = 1 / Math.Sqrt(spec.RecurrentOutputSize);
            tensors[WeightKeys.HeadWeight(prefixes)] = Uniform(headBound, h.OutFeatures, spec.RecurrentOutputSize);
            if (h.Bias)
            {
                tensors[WeightKeys.HeadBias(prefixes)] = Uniform(headBound, h.OutFeatures);
            }
        }

        return FromTensors(spec, tensors);
    }

    /// <summary>The parameters as a state_dict: PyTorch key names (with prefixes) to tensors.</summary>
    public IReadOnlyDictionary<string, FloatTensor> ToTensors()
    {
        var prefixes = Spec.KeyPrefixes;
        var result = new SortedDictionary<string, FloatTensor>(StringComparer.Ordinal);
        for (var layer = 0; layer < Layers.Count; layer++)
        {
            for (var d = 0; d < Layers[layer].Count; d++)
            {
                var w = Layers[layer][d];
                result[WeightKeys.Recurrent(prefixes, "weight_ih", layer, d)] = w.WeightIh;
                result[WeightKeys.Recurrent(prefixes, "weight_hh", layer, d)] = w.WeightHh;
                if (w.BiasIh is not null)
                {
                    result[WeightKeys.Recurrent(prefixes, "bias_ih", layer, d)] = w.BiasIh;
                }

                if (w.BiasHh is not null)
                {
                    result[WeightKeys.Recurrent(prefixes, "bias_hh", layer, d)] = w.BiasHh;
                }

                if (w.WeightHr is not null)
                {
                    result[WeightKeys.Recurrent(prefixes, "weight_hr", layer, d)] = w.WeightHr;
                }
            }
        }

        if (Embedding is not null)
        {
            result[WeightKeys.EmbeddingWeight(prefixes)] = Embedding;
        }

        if (HeadWeight is not null)
        {
            result[WeightKeys.HeadWeight(prefixes)] = HeadWeight;
        }

        if (HeadBias is not null)
        {
            result[WeightKeys.HeadBias(prefixes)] = HeadBias;
        }

        return result;
    }

    /// <summary>
    /// A SHA-256 of every parameter's key, shape and values (lower-case hex), identifying these exact
    /// weights: snapshots carry it so a state is never restored into a different model.
    /// </summary>
    public string ComputeHash()
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (key, tensor) in ToTensors())
        {
            sha.AppendData(Encoding.UTF8.GetBytes(key + FloatTensor.Describe(tensor.Shape)));
            sha.AppendData(MemoryMarshal.AsBytes(tensor.Data.Span));
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    [GeneratedRegex(@"^(weight|bias)_(ih|hh|hr)_l\d+(_reverse)?$", RegexOptions.CultureInvariant)]
    private static partial Regex RecurrentKeyPattern();
}
