using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Verification;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Managed;

/// <summary>
/// One recurrent layer on the managed backend. A step is one product for the inputs, one (accumulating)
/// product for the previous h, the element-wise cell, and, with proj_size, one product for W_hr. Bulk
/// runs compute the input products for many time steps at once. Scratch buffers live as long as the
/// layer and grow only for a larger batch, so the steady state allocates nothing. Steps and bulk runs each use the
/// instruction width the kernel check chose for them (<see cref="SimdChoices"/>).
/// </summary>
internal sealed unsafe class ManagedLayer : IRecurrentLayer, IKernelChoices
{
    // Gate pre-activations per input chunk in Forward: big enough for one large product, small enough to stay in cache.
    private const int ForwardChunkValues = 1 << 20;

    private readonly DirectionParameters[] _directions;
    private readonly MatrixProduct _product;
    private readonly CellBatch _cells;
    private readonly ScratchBuffer _gates = new();
    private readonly ScratchBuffer _hiddenGates = new();
    private readonly ScratchBuffer _previous = new();
    private readonly ScratchBuffer _full = new();
    private readonly ScratchBuffer _cellState = new();
    private readonly ScratchBuffer _zeros = new();
    private readonly SimdChoices _widths;
    private bool _disposed;

    public ManagedLayer(LayerShape shape, IReadOnlyList<LayerWeights> weights, WorkerPool? pool, SimdLevel widest)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Count != shape.Directions)
        {
            throw new ArgumentException($"layer {shape.Index} has {shape.Directions} direction(s) but {weights.Count} weight sets were given.", nameof(weights));
        }

        Shape = shape;
        _directions = weights.Select(w => new DirectionParameters(shape, w)).ToArray();
        _product = new MatrixProduct(pool);
        _cells = new CellBatch(shape.Mode, shape.HiddenSize, pool);
        _widths = shape.Directions == 1
            ? new SimdChoices(widest, ProbeBatches(shape), KernelRole.Step, KernelRole.Bulk)
            : new SimdChoices(widest, [], KernelRole.Bulk);
    }

    public LayerShape Shape { get; }

    public IReadOnlyList<int> StepProbeBatches => _widths.StepProbeBatches;

    public IReadOnlyList<string> Candidates(KernelRole role) => _widths.Candidates(role);

    public void Use(KernelRole role, string path) => _widths.Use(role, path);

    public IStateSlab CreateSlab(int initialCapacity)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new ManagedStateSlab(this, initialCapacity);
    }

    public void Step(IStateSlab slab, ReadOnlyMemory<int> slots, ReadOnlyMemory<float> input, Memory<float> output)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(slab);
        if (slab is not ManagedStateSlab own || own.Owner != this)
        {
            throw new ArgumentException(
                $"the slab was not created by this layer (layer {Shape.Index} of the managed backend); create it with CreateSlab on this layer.",
                nameof(slab));
        }

        if (Shape.Directions != 1)
        {
            throw new InvalidOperationException(
                $"layer {Shape.Index} is bidirectional: bidirectional layers need the whole sequence; use Forward.");
        }

        int batch = slots.Length, inputSize = Shape.InputSize, outputSize = Shape.OutputSize, hidden = Shape.HiddenSize;
        if (input.Length != batch * inputSize)
        {
            throw LengthError(input.Length, batch * inputSize, nameof(input), $"{batch} slot(s) x input size {inputSize}");
        }

        if (output.Length != batch * outputSize)
        {
            throw LengthError(output.Length, batch * outputSize, nameof(output), $"{batch} slot(s) x output size {outputSize}");
        }

        own.ValidateBatch(slots.Span);
        if (batch == 0)
        {
            return;
        }

        var p = _directions[0];
        var level = _widths[KernelRole.Step];
        var gateWidth = p.Input.Rows;
        var gates = _gates.Ensure(batch * gateWidth);
        var previous = _previous.Ensure(batch * outputSize);
        var hiddenGates = Shape.Mode == RecurrentMode.Gru ? _hiddenGates.Ensure(batch * gateWidth) : null;
        var full = p.Projection is null ? null : _full.Ensure(batch * hidden);
        fixed (float* x = input.Span)
        fixed (float* y = output.Span)
        fixed (int* slot = slots.Span)
        fixed (float* slabH = own.H)
        fixed (float* slabC = own.C)
        {
            _product.Multiply(x, inputSize, batch, p.Input, gates, gateWidth, accumulate: false, level);
            for (var b = 0; b < batch; b++)
            {
                new ReadOnlySpan<float>(slabH + slot[b] * (nint)outputSize, outputSize).CopyTo(new Span<float>(previous + b * (nint)outputSize, outputSize));
            }

            if (hiddenGates is null)
            {
                _product.Multiply(previous, outputSize, batch, p.Hidden, gates, gateWidth, accumulate: true, level);
            }
            else
            {
                _product.Multiply(previous, outputSize, batch, p.Hidden, hiddenGates, gateWidth, accumulate: false, level);
            }

            _cells.Run(batch, gates, hiddenGates, previous, outputSize, slabC, hidden, slot, full is null ? y : full, full is null ? outputSize : hidden);
            if (p.Projection is { } projection)
            {
                _product.Multiply(full, hidden, batch, projection, y, outputSize, accumulate: false, level);
            }

            for (var b = 0; b < batch; b++)
            {
                new ReadOnlySpan<float>(y + b * (nint)outputSize, outputSize).CopyTo(new Span<float>(slabH + slot[b] * (nint)outputSize, outputSize));
            }
        }
    }

    public void Forward(
        ReadOnlyMemory<float> input,
        int sequenceLength,
        int batch,
        ReadOnlyMemory<float> h0,
        ReadOnlyMemory<float> c0,
        Memory<float> output,
        Memory<float> hN,
        Memory<float> cN)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequenceLength, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        int inputSize = Shape.InputSize, outputSize = Shape.OutputSize, hidden = Shape.HiddenSize, directions = Shape.Directions;
        var stateH = directions * batch * outputSize;
        var stateC = directions * batch * hidden;
        var outputStride = directions * outputSize;
        if (input.Length != sequenceLength * batch * inputSize)
        {
            throw LengthError(input.Length, sequenceLength * batch * inputSize, nameof(input), $"sequence length {sequenceLength} x batch {batch} x input size {inputSize}");
        }

        if (output.Length != sequenceLength * batch * outputStride)
        {
            throw LengthError(output.Length, sequenceLength * batch * outputStride, nameof(output), $"sequence length {sequenceLength} x batch {batch} x {directions} direction(s) x output size {outputSize}");
        }

        if (!h0.IsEmpty && h0.Length != stateH)
        {
            throw LengthError(h0.Length, stateH, nameof(h0), $"{directions} direction(s) x batch {batch} x output size {outputSize}, or empty for zeros");
        }

        if (hN.Length != stateH)
        {
            throw LengthError(hN.Length, stateH, nameof(hN), $"{directions} direction(s) x batch {batch} x output size {outputSize}");
        }

        if (Shape.HasCellState)
        {
            if (!c0.IsEmpty && c0.Length != stateC)
            {
                throw LengthError(c0.Length, stateC, nameof(c0), $"{directions} direction(s) x batch {batch} x hidden size {hidden}, or empty for zeros");
            }

            if (cN.Length != stateC)
            {
                throw LengthError(cN.Length, stateC, nameof(cN), $"{directions} direction(s) x batch {batch} x hidden size {hidden}");
            }
        }

        var level = _widths[KernelRole.Bulk];
        var gateWidth = _directions[0].Input.Rows;
        var stepValues = batch * gateWidth;
        var chunkSteps = Math.Clamp(ForwardChunkValues / stepValues, 1, sequenceLength);
        var inputGates = _gates.Ensure(chunkSteps * stepValues);
        var hiddenGates = Shape.Mode == RecurrentMode.Gru ? _hiddenGates.Ensure(stepValues) : null;
        var cells = Shape.HasCellState ? _cellState.Ensure(batch * hidden) : null;
        var full = Shape.HasProjection ? _full.Ensure(batch * hidden) : null;
        // Never written: the h0 of every direction when the caller gives none.
        var zeros = h0.IsEmpty ? _zeros.Ensure(batch * outputSize) : null;
        fixed (float* x = input.Span)
        fixed (float* y = output.Span)
        fixed (float* h0p = h0.Span)
        fixed (float* c0p = c0.Span)
        fixed (float* hn = hN.Span)
        fixed (float* cn = cN.Span)
        {
            for (var d = 0; d < directions; d++)
            {
                var p = _directions[d];
                var reverse = d == 1;
                var previous = zeros != null ? zeros : h0p + d * (nint)batch * outputSize;
                nint previousStride = outputSize;
                if (cells is not null)
                {
                    var state = new Span<float>(cells, batch * hidden);
                    if (c0.IsEmpty)
                    {
                        state.Clear();
                    }
                    else
                    {
                        new ReadOnlySpan<float>(c0p + d * (nint)batch * hidden, batch * hidden).CopyTo(state);
                    }
                }

                for (var done = 0; done < sequenceLength; done += chunkSteps)
                {
                    // Forward walks chunks from the start, reverse from the end; either way time order within.
                    var count = Math.Min(chunkSteps, sequenceLength - done);
                    var t0 = reverse ? sequenceLength - done - count : done;
                    _product.Multiply(x + t0 * (nint)batch * inputSize, inputSize, count * batch, p.Input, inputGates, gateWidth, accumulate: false, level);
                    for (var s = 0; s < count; s++)
                    {
                        var t = reverse ? t0 + count - 1 - s : t0 + s;
                        var gates = inputGates + (t - t0) * (nint)stepValues;
                        if (hiddenGates is null)
                        {
                            _product.Multiply(previous, previousStride, batch, p.Hidden, gates, gateWidth, accumulate: true, level);
                        }
                        else
                        {
                            _product.Multiply(previous, previousStride, batch, p.Hidden, hiddenGates, gateWidth, accumulate: false, level);
                        }

                        var rows = y + t * (nint)batch * outputStride + d * outputSize;
                        _cells.Run(batch, gates, hiddenGates, previous, previousStride, cells, hidden, null, full is null ? rows : full, full is null ? outputStride : hidden);
                        if (p.Projection is { } projection)
                        {
                            _product.Multiply(full, hidden, batch, projection, rows, outputStride, accumulate: false, level);
                        }

                        previous = rows;
                        previousStride = outputStride;
                    }
                }

                for (var b = 0; b < batch; b++)
                {
                    new ReadOnlySpan<float>(previous + b * previousStride, outputSize).CopyTo(new Span<float>(hn + (d * (nint)batch + b) * outputSize, outputSize));
                }

                if (cells is not null)
                {
                    new ReadOnlySpan<float>(cells, batch * hidden).CopyTo(new Span<float>(cn + d * (nint)batch * hidden, batch * hidden));
                }
            }
        }
    }

    public void Dispose() => _disposed = true;

    // Batch sizes where the step's code changes: one row (the single-row kernel), a partial row tile, and enough rows
    // to cross a row block and to split the element-wise cell over the worker pool.
    private static int[] ProbeBatches(LayerShape shape) =>
        [1, 7, Math.Clamp(Math.Max(Gemm.RowBlock + 1, CellBatch.ParallelGateValues / (shape.GateCount * shape.HiddenSize) + 1), 1, 1024)];

    // The description is built only when the check fails, so the check itself allocates nothing.
    private static ArgumentException LengthError(int found, int expected, string name, string what) =>
        new($"{name} has {found} floats; expected {expected} ({what}).", name);
}
