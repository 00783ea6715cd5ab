using Streaming.Cells.Model;

namespace Streaming.Generators.Models;

/// <summary>Every model the generator writes: the examples in config/models and those the recordings use.</summary>
internal static class ModelCatalog
{
    /// <summary>A plain 2-layer LSTM (input 8, hidden 32), keys bare as nn.LSTM saves them.</summary>
    public static ModelDefinition LstmSmall { get; } = new(
        "lstm-small",
        new ModelSpec(new RecurrentSpec(RecurrentMode.Lstm, InputSize: 8, HiddenSize: 32, NumLayers: 2)),
        Seed: 1001);

    /// <summary>
    /// A character-level model: Embedding(64, 16), LSTM(16, 48, 2 layers), Linear(48, 64), saved from a
    /// wrapper module whose fields are named embedding, rnn and head.
    /// </summary>
    public static ModelDefinition CharLstm { get; } = new(
        "char-lstm",
        new ModelSpec(
            new RecurrentSpec(RecurrentMode.Lstm, InputSize: 16, HiddenSize: 48, NumLayers: 2),
            new EmbeddingSpec(NumEmbeddings: 64, EmbeddingDim: 16),
            new HeadSpec(OutFeatures: 64),
            new WeightKeyPrefixes(Recurrent: "rnn.", Embedding: "embedding.", Head: "head.")),
        Seed: 1002);

    public static IReadOnlyList<ModelDefinition> Examples { get; } = [LstmSmall, CharLstm];

    public static ModelDefinition RnnTanh { get; } = Recurrent("rnn-tanh", new(RecurrentMode.RnnTanh, 4, 6, NumLayers: 1), 2001);

    public static ModelDefinition RnnReluNoBias { get; } = Recurrent("rnn-relu-nobias", new(RecurrentMode.RnnRelu, 4, 6, NumLayers: 2, Bias: false), 2002);

    public static ModelDefinition Lstm { get; } = Recurrent("lstm", new(RecurrentMode.Lstm, 5, 7, NumLayers: 3), 2003);

    public static ModelDefinition LstmNoBias { get; } = Recurrent("lstm-nobias", new(RecurrentMode.Lstm, 3, 5, NumLayers: 1, Bias: false), 2004);

    public static ModelDefinition Gru { get; } = Recurrent("gru", new(RecurrentMode.Gru, 4, 6, NumLayers: 2), 2005);

    public static ModelDefinition LstmProj { get; } = Recurrent("lstm-proj", new(RecurrentMode.Lstm, 4, 8, NumLayers: 2, ProjSize: 3), 2006);

    public static ModelDefinition LstmBidirectional { get; } = Recurrent("lstm-bidirectional", new(RecurrentMode.Lstm, 3, 5, NumLayers: 2, Bidirectional: true), 2007);

    public static ModelDefinition GruBidirectional { get; } = Recurrent("gru-bidirectional", new(RecurrentMode.Gru, 3, 4, NumLayers: 1, Bidirectional: true), 2008);

    /// <summary>A GRU whose output (hidden 4) is the size of its input: a model that generates by feeding its output back.</summary>
    public static ModelDefinition GruLoop { get; } = Recurrent("gru-loop", new(RecurrentMode.Gru, 4, 4, NumLayers: 2), 2009);

    private static ModelDefinition Recurrent(string name, RecurrentSpec spec, int seed) => new(name, new ModelSpec(spec), seed);
}
