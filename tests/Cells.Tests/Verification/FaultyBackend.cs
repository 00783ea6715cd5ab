using Streaming.Cells.Backends;
using Streaming.Cells.Model;

namespace Streaming.Cells.Tests.Verification;

/// <summary>A real backend whose layers are replaced by <see cref="FaultyLayer"/>s (or left as they are).</summary>
internal sealed class FaultyBackend(IRecurrentBackend inner, IReadOnlyList<IRecurrentLayer> layers) : IRecurrentBackend
{
    public string Name => inner.Name;

    public ModelSpec Spec => inner.Spec;

    public IReadOnlyList<IRecurrentLayer> Layers => layers;

    public KernelReport Kernels => inner.Kernels;

    public void Embed(ReadOnlyMemory<int> ids, Memory<float> output) => inner.Embed(ids, output);

    public void ApplyHead(ReadOnlyMemory<float> input, int rows, Memory<float> output) => inner.ApplyHead(input, rows, output);

    public void Dispose() => inner.Dispose();
}
