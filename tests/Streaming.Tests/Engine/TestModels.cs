using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Tests.Engine;

/// <summary>Small random models, drawn as PyTorch initialises them.</summary>
internal static class TestModels
{
    public static ModelSpec Lstm2 { get; } = new(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 5, HiddenSize: 8, NumLayers: 2));

    public static ModelSpec Gru2 { get; } = new(new RecurrentSpec(RecurrentMode.Gru, InputSize: 4, HiddenSize: 6, NumLayers: 2));

    public static ModelSpec RnnRelu { get; } = new(new RecurrentSpec(RecurrentMode.RnnRelu, InputSize: 3, HiddenSize: 7));

    public static ModelSpec ProjectedLstm { get; } = new(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 4, HiddenSize: 8, NumLayers: 2, ProjSize: 3));

    /// <summary>Token ids through an embedding, an LSTM, and a linear head.</summary>
    public static ModelSpec EmbeddingHead { get; } = new(
        new RecurrentSpec(RecurrentMode.Lstm, InputSize: 6, HiddenSize: 9),
        new EmbeddingSpec(NumEmbeddings: 20, EmbeddingDim: 6),
        new HeadSpec(OutFeatures: 20));

    public static ModelSpec BidirectionalGru { get; } = new(new RecurrentSpec(RecurrentMode.Gru, InputSize: 3, HiddenSize: 5, NumLayers: 2, Bidirectional: true));

    public static (ModelIdentity Identity, ModelWeights Weights) Create(ModelSpec spec, int seed = 1, string name = "test-model")
    {
        var weights = ModelWeights.CreateRandom(spec, seed);
        return (ModelIdentity.Of(name, weights), weights);
    }

    public static Token RandomToken(ModelSpec spec, Random random) =>
        spec.Embedding is { } e
            ? Token.Id(random.Next(e.NumEmbeddings))
            : Token.Vector(Enumerable.Range(0, spec.InputSize).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray());

    public static Token[] RandomSequence(ModelSpec spec, Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => RandomToken(spec, random)).ToArray();
}
