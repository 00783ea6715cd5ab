using Streaming.Cells.Model;

namespace Streaming.Cells.Backends;

/// <summary>
/// A model loaded onto one compute backend: its recurrent layers, plus the embedding and head around
/// them. Create one with <c>RecurrentBackends.Create</c>. Layers may be used from different
/// threads at once (one layer per thread); a single layer is not re-entrant.
/// </summary>
public interface IRecurrentBackend : IDisposable
{
    /// <summary>Backend name and device, e.g. <c>managed</c> or <c>torch:cpu</c>.</summary>
    string Name { get; }

    /// <summary>The model.</summary>
    ModelSpec Spec { get; }

    /// <summary>The recurrent layers, from the input up.</summary>
    IReadOnlyList<IRecurrentLayer> Layers { get; }

    /// <summary>
    /// The kernel check this backend ran before it could be used: the compute path each role of each layer (and the
    /// head) serves with, every path rejected on this machine, and the largest error against the float64 reference.
    /// </summary>
    KernelReport Kernels { get; }

    /// <summary>Looks up embedding rows: output is (ids.Length, embedding_dim).</summary>
    /// <exception cref="InvalidOperationException">The model has no embedding.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside 0..num_embeddings-1.</exception>
    void Embed(ReadOnlyMemory<int> ids, Memory<float> output);

    /// <summary>Applies the linear head to <paramref name="rows"/> rows: input (rows, recurrent output size), output (rows, out_features).</summary>
    /// <exception cref="InvalidOperationException">The model has no head.</exception>
    void ApplyHead(ReadOnlyMemory<float> input, int rows, Memory<float> output);
}
