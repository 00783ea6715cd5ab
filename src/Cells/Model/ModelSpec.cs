namespace Streaming.Cells.Model;

/// <summary>A whole model: optional embedding, the recurrent layers, optional linear head.</summary>
/// <param name="Recurrent">The recurrent layers.</param>
/// <param name="Embedding">Optional embedding; tokens are then integer ids.</param>
/// <param name="Head">Optional linear head applied to every output step.</param>
/// <param name="Prefixes">State_dict key prefixes; null means <see cref="WeightKeyPrefixes.Default"/>.</param>
public sealed record ModelSpec(
    RecurrentSpec Recurrent,
    EmbeddingSpec? Embedding = null,
    HeadSpec? Head = null,
    WeightKeyPrefixes? Prefixes = null)
{
    /// <summary>The prefixes in force.</summary>
    public WeightKeyPrefixes KeyPrefixes => Prefixes ?? WeightKeyPrefixes.Default;

    /// <summary>Whether tokens are integer ids (an embedding is present) rather than float vectors.</summary>
    public bool TakesTokenIds => Embedding is not null;

    /// <summary>Floats per token fed to the first recurrent layer.</summary>
    public int InputSize => Recurrent.InputSize;

    /// <summary>Floats per step of the recurrent output: <c>Directions * OutputSize</c>.</summary>
    public int RecurrentOutputSize => Recurrent.Directions * Recurrent.OutputSize;

    /// <summary>Floats per step the model emits: the head's out_features, else the recurrent output.</summary>
    public int OutputSize => Head?.OutFeatures ?? RecurrentOutputSize;

    /// <summary>Throws <see cref="InvalidModelSpecException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Recurrent);
        Recurrent.Validate();
        if (Embedding is { } e)
        {
            if (e.NumEmbeddings <= 0)
            {
                throw new InvalidModelSpecException($"embedding.num_embeddings is {e.NumEmbeddings}; expected a positive integer.");
            }

            if (e.EmbeddingDim != Recurrent.InputSize)
            {
                throw new InvalidModelSpecException(
                    $"embedding.embedding_dim is {e.EmbeddingDim} but recurrent.input_size is {Recurrent.InputSize}; they must be equal.");
            }
        }

        if (Head is { OutFeatures: <= 0 } h)
        {
            throw new InvalidModelSpecException($"head.out_features is {h.OutFeatures}; expected a positive integer.");
        }
    }
}
