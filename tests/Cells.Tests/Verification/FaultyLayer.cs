using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Verification;

namespace Streaming.Cells.Tests.Verification;

/// <summary>
/// A real layer whose path <see cref="Path"/> of <see cref="Role"/> is made wrong, the way a faulty native kernel is:
/// outputs and the state it leaves are off by <see cref="Error"/>, from <see cref="FromBatch"/> sessions up, or it throws.
/// </summary>
internal sealed class FaultyLayer(IRecurrentLayer inner, KernelRole role, string path, double error, int fromBatch = 1, bool throws = false)
    : IRecurrentLayer, IKernelChoices
{
    private readonly IKernelChoices _choices = (IKernelChoices)inner;
    private readonly Dictionary<KernelRole, string> _current = [];

    public KernelRole Role => role;

    public string Path => path;

    public double Error => error;

    public int FromBatch => fromBatch;

    public LayerShape Shape => inner.Shape;

    public IReadOnlyList<int> StepProbeBatches => _choices.StepProbeBatches;

    public IReadOnlyList<string> Candidates(KernelRole r) => _choices.Candidates(r);

    public void Use(KernelRole r, string p)
    {
        _choices.Use(r, p);
        _current[r] = p;
    }

    public IStateSlab CreateSlab(int initialCapacity) => inner.CreateSlab(initialCapacity);

    public void Step(IStateSlab slab, ReadOnlyMemory<int> slots, ReadOnlyMemory<float> input, Memory<float> output)
    {
        inner.Step(slab, slots, input, output);
        if (Faulty(KernelRole.Step) && slots.Length >= fromBatch)
        {
            ThrowIfAsked();
            output.Span[^1] += (float)error;
            var last = slots.Span[^1];
            var state = slab.Read(last);
            var h = state.H.ToArray();
            h[^1] += (float)error;
            slab.Write(last, state with { H = h });
        }
    }

    public void Forward(
        ReadOnlyMemory<float> input, int sequenceLength, int batch, ReadOnlyMemory<float> h0, ReadOnlyMemory<float> c0,
        Memory<float> output, Memory<float> hN, Memory<float> cN)
    {
        inner.Forward(input, sequenceLength, batch, h0, c0, output, hN, cN);
        if (Faulty(KernelRole.Bulk) && batch >= fromBatch)
        {
            ThrowIfAsked();
            output.Span[0] += (float)error;
        }
    }

    public void Dispose() => inner.Dispose();

    private bool Faulty(KernelRole r) => r == role && _current.TryGetValue(r, out var p) && p == path;

    private void ThrowIfAsked()
    {
        if (throws)
        {
            throw new InvalidOperationException("the native kernel crashed");
        }
    }
}
