using System.Globalization;
using Streaming.Cells.Model;

namespace Streaming.Generators.Training;

/// <summary>
/// The character model's shape and its training schedule: Adam with a cosine-decayed learning rate, truncated
/// back-propagation through time over <see cref="Streams"/> parallel streams of the corpus, gradients clipped by norm.
/// Every random choice (initialisation, dropout, each epoch's offset) follows <see cref="Seed"/>.
/// </summary>
internal sealed record TrainingOptions
{
    public int Seed { get; init; } = 2025;

    public int EmbeddingDim { get; init; } = 32;

    public int HiddenSize { get; init; } = 128;

    public int NumLayers { get; init; } = 2;

    /// <summary>Between the LSTM layers while training (nn.LSTM's dropout); inactive in the served model.</summary>
    public double Dropout { get; init; } = 0.1;

    /// <summary>Parallel streams: the batch size.</summary>
    public int Streams { get; init; } = 16;

    /// <summary>Steps back-propagated through before the state is detached and carried on.</summary>
    public int Bptt { get; init; } = 100;

    public int Epochs { get; init; } = 50;

    public double LearningRate { get; init; } = 4e-3;

    /// <summary>The cosine schedule ends at LearningRate * FinalLearningRateFactor.</summary>
    public double FinalLearningRateFactor { get; init; } = 0.05;

    public double ClipNorm { get; init; } = 1.0;

    /// <summary>The exported model: Embedding(vocab, EmbeddingDim), LSTM(EmbeddingDim, HiddenSize, NumLayers), Linear(HiddenSize, vocab).</summary>
    public ModelSpec Spec(int vocabulary) => new(
        new RecurrentSpec(RecurrentMode.Lstm, EmbeddingDim, HiddenSize, NumLayers, Dropout: Dropout),
        new EmbeddingSpec(vocabulary, EmbeddingDim),
        new HeadSpec(vocabulary),
        new WeightKeyPrefixes(Recurrent: "rnn.", Embedding: "embedding.", Head: "head."));

    /// <summary>One line for logs and the weights' metadata.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"seed {Seed}, Adam lr {LearningRate:G4} cosine to {LearningRate * FinalLearningRateFactor:G4}, {Epochs} epochs, " +
        $"{Streams} streams x {Bptt} steps (truncated BPTT), clip {ClipNorm}, dropout {Dropout}");
}
