namespace Streaming.Client.Protocol;

/// <summary>What a model's tokens are: float vectors, or integer ids for a model with an embedding.</summary>
public enum TokenKind : byte
{
    /// <summary>Each token is a vector of input_size floats.</summary>
    Vectors = 0,

    /// <summary>Each token is an integer id in [0, num_embeddings).</summary>
    Ids = 1,
}
