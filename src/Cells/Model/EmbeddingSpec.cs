namespace Streaming.Cells.Model;

/// <summary>An nn.Embedding in front of the recurrent layers: tokens are then integer ids.</summary>
/// <param name="NumEmbeddings">Vocabulary size (<c>num_embeddings</c>); valid ids are 0..NumEmbeddings-1.</param>
/// <param name="EmbeddingDim">Vector size (<c>embedding_dim</c>); must equal the recurrent input_size.</param>
public sealed record EmbeddingSpec(int NumEmbeddings, int EmbeddingDim);
