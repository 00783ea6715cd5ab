using Streaming.Cells.Model;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Backends;

/// <summary>
/// The embedding lookup every backend shares: a row copy from the host table needs no device work, and
/// the rows are wanted on the host anyway (the first layer's step takes host input).
/// </summary>
internal static class EmbeddingLookup
{
    /// <summary>Copies the rows of <paramref name="ids"/> from <paramref name="table"/> into <paramref name="output"/>.</summary>
    /// <exception cref="InvalidOperationException">The model has no embedding.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside 0..num_embeddings-1; nothing is written.</exception>
    public static void Copy(ModelSpec spec, FloatTensor? table, ReadOnlyMemory<int> ids, Memory<float> output)
    {
        if (table is null || spec.Embedding is not { } e)
        {
            throw new InvalidOperationException(
                $"the model has no embedding: its tokens are float vectors of input_size {spec.InputSize}, not ids.");
        }

        var dimension = e.EmbeddingDim;
        if (output.Length != (long)ids.Length * dimension)
        {
            throw new ArgumentException(
                $"output has {output.Length} floats; expected {(long)ids.Length * dimension} ({ids.Length} id(s) x embedding_dim {dimension}).", nameof(output));
        }

        var idSpan = ids.Span;
        // Check every id before writing any row, so a bad id leaves the output untouched.
        for (var i = 0; i < idSpan.Length; i++)
        {
            if ((uint)idSpan[i] >= (uint)e.NumEmbeddings)
            {
                throw new ArgumentOutOfRangeException(
                    nameof(ids), idSpan[i], $"token id {idSpan[i]} at position {i} is outside the embedding's range 0..{e.NumEmbeddings - 1}.");
            }
        }

        var rows = table.Data.Span;
        var destination = output.Span;
        for (var i = 0; i < idSpan.Length; i++)
        {
            rows.Slice(idSpan[i] * dimension, dimension).CopyTo(destination.Slice(i * dimension, dimension));
        }
    }
}
