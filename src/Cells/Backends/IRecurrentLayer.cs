using Streaming.Cells.Model;

namespace Streaming.Cells.Backends;

/// <summary>
/// One recurrent layer on a backend: batched single steps over sessions held in a <see cref="IStateSlab"/>,
/// and bulk runs over whole sequences. All buffers are row-major fp32 on the host.
/// </summary>
public interface IRecurrentLayer : IDisposable
{
    /// <summary>The layer's sizes.</summary>
    LayerShape Shape { get; }

    /// <summary>Creates an empty slab for this layer's per-session state.</summary>
    /// <param name="initialCapacity">Slots to reserve up front; the slab grows beyond it on demand.</param>
    IStateSlab CreateSlab(int initialCapacity);

    /// <summary>
    /// Advances each listed session by one token, in one batched computation, updating its slot.
    /// Only for unidirectional layers: a reverse direction needs the whole sequence.
    /// </summary>
    /// <param name="slab">A slab created by this layer.</param>
    /// <param name="slots">Distinct slots, one per session in the batch (a session appears at most once).</param>
    /// <param name="input">(slots.Length, InputSize).</param>
    /// <param name="output">(slots.Length, OutputSize): the new h of each session.</param>
    void Step(IStateSlab slab, ReadOnlyMemory<int> slots, ReadOnlyMemory<float> input, Memory<float> output);

    /// <summary>
    /// Runs the layer over whole sequences (both directions when bidirectional), as PyTorch's module does
    /// for one layer with batch_first=False.
    /// </summary>
    /// <param name="input">(sequenceLength, batch, InputSize).</param>
    /// <param name="sequenceLength">Steps; at least 1.</param>
    /// <param name="batch">Sequences; at least 1.</param>
    /// <param name="h0">(Directions, batch, OutputSize), or empty for zeros.</param>
    /// <param name="c0">(Directions, batch, HiddenSize) for LSTM, or empty for zeros; ignored otherwise.</param>
    /// <param name="output">(sequenceLength, batch, Directions * OutputSize), forward then reverse per step.</param>
    /// <param name="hN">(Directions, batch, OutputSize): final h (for reverse, the state after step 0).</param>
    /// <param name="cN">(Directions, batch, HiddenSize) for LSTM; may be empty otherwise.</param>
    void Forward(
        ReadOnlyMemory<float> input,
        int sequenceLength,
        int batch,
        ReadOnlyMemory<float> h0,
        ReadOnlyMemory<float> c0,
        Memory<float> output,
        Memory<float> hN,
        Memory<float> cN);
}
