using Streaming.Cells.Backends;
using Streaming.Cells.Model;
using Streaming.Cells.Verification;
using Streaming.Cells.Weights;
using TorchSharp;
using static TorchSharp.torch;

namespace Streaming.Cells.Torch;

/// <summary>
/// One recurrent layer on a libtorch device. Batched steps gather the sessions' state from a
/// <see cref="TorchStateSlab"/> by slot index, run one cell step and scatter the new state back, all
/// on the device; only the input and the new h cross to and from the host. Paths, chosen by the kernel check:
/// a step is the hand-written cell (<see cref="TorchCells"/>, <c>addmm-cells</c>), or for larger LSTM batches
/// libtorch's LSTM kernel (<c>addmm-cells+libtorch-lstm</c>, see <see cref="LibraryKernelMinBatch"/>), or that
/// kernel for every batch (<c>libtorch-lstm</c>); a bulk run is libtorch's own sequence module
/// (<c>libtorch-lstm</c>, <c>libtorch-gru</c>, ...), or the hand-written cells step by step
/// (<see cref="CellSequence"/>, <c>addmm-cells</c>; the only path for proj_size). Not re-entrant: one caller at a
/// time (different layers may run on different threads).
/// </summary>
internal sealed class TorchLayer : IRecurrentLayer, IKernelChoices
{
    /// <summary>The hand-written cells: addmm and element-wise kernels.</summary>
    public const string CellsPath = "addmm-cells";

    private readonly string[] _stepCandidates;
    private readonly string[] _bulkCandidates;
    private readonly string? _libraryPath;
    private StepPath _step;
    private bool _bulkByLibrary;
    private readonly Device _device;
    private readonly TorchDirectionWeights[] _cells;
    private readonly TorchSequenceModule? _sequence;
    private readonly HostStaging _staging;
    private bool _disposed;

    /// <summary>Loads the layer's weights (one entry per direction) onto <paramref name="device"/>.</summary>
    public TorchLayer(LayerShape shape, IReadOnlyList<LayerWeights> weights, Device device)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(weights);
        Shape = shape;
        _device = device;
        _staging = new HostStaging(device, shape.InputSize, shape.OutputSize);

        // Hand-written cells serve steps, projected bulk runs, and any bulk run whose library kernel failed the
        // kernel check; the library module serves the other bulk runs and large LSTM steps.
        _cells = weights.Select(w => TorchDirectionWeights.Create(shape.Mode, w, device)).ToArray();
        LibraryKernelMinBatch = DefaultLibraryKernelMinBatch(shape);
        try
        {
            _sequence = shape.HasProjection ? null : TorchSequenceModule.Create(shape, weights, device);
        }
        catch
        {
            DisposeCells();
            throw;
        }

        _libraryPath = _sequence is null ? null : "libtorch-" + shape.Mode.ToTorchName().ToLowerInvariant().Replace('_', '-');
        // Only LSTM gains from the library kernel at large batches (GRU and RNN run on the same BLAS as the cells);
        // for every mode it is the fallback should the cells fail.
        var hybrid = _libraryPath is not null && LibraryKernelMinBatch != int.MaxValue;
        _stepCandidates = shape.Directions != 1 ? []
            : hybrid ? [$"{CellsPath}+{_libraryPath}", CellsPath, _libraryPath!]
            : _libraryPath is not null ? [CellsPath, _libraryPath]
            : [CellsPath];
        _bulkCandidates = _libraryPath is null ? [CellsPath] : [_libraryPath, CellsPath];
        _step = hybrid ? StepPath.CellsThenLibrary : StepPath.Cells;
        _bulkByLibrary = _libraryPath is not null;
        StepProbeBatches = LibraryKernelMinBatch == int.MaxValue ? [1, 7, 64] : [1, 7, LibraryKernelMinBatch - 1, LibraryKernelMinBatch];
    }

    private enum StepPath
    {
        Cells,
        CellsThenLibrary,
        Library,
    }

    /// <inheritdoc />
    public LayerShape Shape { get; }

    /// <summary>
    /// LSTM batches of at least this many sessions step through libtorch's LSTM kernel (a length-1
    /// sequence: oneDNN on the CPU), smaller ones and every other cell through the hand-written cell.
    /// <see cref="DefaultLibraryKernelMinBatch"/> picks it; it applies while the step path is <c>addmm-cells+libtorch-lstm</c>.
    /// </summary>
    internal int LibraryKernelMinBatch { get; }

    /// <inheritdoc />
    public IReadOnlyList<int> StepProbeBatches { get; }

    /// <inheritdoc />
    public IReadOnlyList<string> Candidates(KernelRole role) => role switch
    {
        KernelRole.Step => _stepCandidates,
        KernelRole.Bulk => _bulkCandidates,
        _ => [],
    };

    /// <inheritdoc />
    public void Use(KernelRole role, string path)
    {
        var index = Array.IndexOf(role == KernelRole.Step ? _stepCandidates : role == KernelRole.Bulk ? _bulkCandidates : [], path);
        if (index < 0)
        {
            throw new ArgumentException(
                $"layer {Shape.Index} has no {role.ToString().ToLowerInvariant()} path '{path}'; it has {string.Join(", ", Candidates(role))}.", nameof(path));
        }

        if (role == KernelRole.Step)
        {
            _step = path == CellsPath ? StepPath.Cells : path == _libraryPath ? StepPath.Library : StepPath.CellsThenLibrary;
        }
        else
        {
            _bulkByLibrary = path == _libraryPath;
        }
    }

    /// <inheritdoc />
    public IStateSlab CreateSlab(int initialCapacity)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new TorchStateSlab(this, Shape, _device, initialCapacity);
    }

    /// <inheritdoc />
    public void Step(IStateSlab slab, ReadOnlyMemory<int> slots, ReadOnlyMemory<float> input, Memory<float> output)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(slab);
        if (Shape.Directions != 1)
        {
            throw new InvalidOperationException(
                $"layer {Shape.Index} is bidirectional: its reverse direction needs the whole sequence, so it cannot be stepped one token at a time; run it with Forward (replay).");
        }

        var state = OwnSlab(slab);
        var n = slots.Length;
        BufferChecks.Length(nameof(input), (long)n * Shape.InputSize, input.Length, $"slots ({n}) x input size ({Shape.InputSize})");
        BufferChecks.Length(nameof(output), (long)n * Shape.OutputSize, output.Length, $"slots ({n}) x output size ({Shape.OutputSize})");
        state.Slots.RequireBatch(slots.Span, nameof(slots));
        if (n == 0)
        {
            return;
        }

        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var index = _staging.Indices(slots.Span);
        var x = _staging.Input(input.Span, n);
        var h = state.H.index_select(0, index);
        var c = state.C?.index_select(0, index);
        var byLibrary = _step == StepPath.Library || (_step == StepPath.CellsThenLibrary && n >= LibraryKernelMinBatch);
        var (hNext, cNext) = byLibrary
            ? LibraryStep(x, h, c)
            : TorchCells.Step(_cells[0], TorchCells.InputGates(_cells[0], x), h, c);
        state.H.index_copy_(0, index, hNext);
        if (cNext is not null)
        {
            state.C!.index_copy_(0, index, cNext);
        }

        _staging.Output(hNext, output.Span);
    }

    /// <inheritdoc />
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
        BufferChecks.Positive(nameof(sequenceLength), sequenceLength);
        BufferChecks.Positive(nameof(batch), batch);
        var s = Shape;
        long steps = sequenceLength, rows = batch, dirs = s.Directions;
        var stateLayout = $"directions ({dirs}) x batch ({batch}) x output size ({s.OutputSize})";
        var cellLayout = $"directions ({dirs}) x batch ({batch}) x hidden size ({s.HiddenSize})";
        BufferChecks.Length(nameof(input), steps * rows * s.InputSize, input.Length, $"sequence length ({sequenceLength}) x batch ({batch}) x input size ({s.InputSize})");
        BufferChecks.EmptyOrLength(nameof(h0), dirs * rows * s.OutputSize, h0.Length, stateLayout);
        BufferChecks.Length(nameof(output), steps * rows * s.SequenceOutputSize, output.Length,
            $"sequence length ({sequenceLength}) x batch ({batch}) x directions * output size ({s.SequenceOutputSize})");
        BufferChecks.Length(nameof(hN), dirs * rows * s.OutputSize, hN.Length, stateLayout);
        if (s.HasCellState)
        {
            BufferChecks.EmptyOrLength(nameof(c0), dirs * rows * s.HiddenSize, c0.Length, cellLayout);
            BufferChecks.Length(nameof(cN), dirs * rows * s.HiddenSize, cN.Length, cellLayout);
        }

        using var inference = inference_mode();
        using var scope = NewDisposeScope();
        var x = DeviceTransfer.Upload(input.Span, [steps, rows, s.InputSize], _device);
        var h = State(h0, [dirs, rows, s.OutputSize]);
        var c = s.HasCellState ? State(c0, [dirs, rows, s.HiddenSize]) : null;
        var (y, hn, cn) = _bulkByLibrary ? _sequence!.Run(x, h, c) : RunCells(x, h, c);
        DeviceTransfer.Download(y, output.Span);
        DeviceTransfer.Download(hn, hN.Span);
        if (cn is not null)
        {
            DeviceTransfer.Download(cn, cN.Span);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _sequence?.Dispose();
        DisposeCells();
        _staging.Dispose();
    }

    /// <summary>
    /// Where libtorch's LSTM kernel starts to beat the hand-written cell for one step. libtorch runs
    /// LSTM sequences with oneDNN, whose matrix kernels outrun the BLAS behind addmm on CPUs where that
    /// BLAS takes a slower path (about 1.5x on AVX-512 AMD machines), but each call pays a fixed cost
    /// that only larger batches amortise: measured on a 2-core machine, the crossover is near 32
    /// sessions at hidden_size 128 and above, and near 128 at hidden_size 32. GRU and RNN gain nothing
    /// (libtorch runs them on the same BLAS), and projected layers have no libtorch module.
    /// </summary>
    internal static int DefaultLibraryKernelMinBatch(LayerShape shape) =>
        shape.Mode == RecurrentMode.Lstm && !shape.HasProjection
            ? Math.Clamp(4096 / shape.HiddenSize, 32, 128)
            : int.MaxValue;

    // One step through the sequence module: a length-1 sequence with the gathered states as h0/c0.
    private (Tensor H, Tensor? C) LibraryStep(Tensor x, Tensor h, Tensor? c)
    {
        var (_, hn, cn) = _sequence!.Run(x.unsqueeze(0), h.unsqueeze(0), c?.unsqueeze(0));
        return (hn[0], cn?[0]);
    }

    private TorchStateSlab OwnSlab(IStateSlab slab)
    {
        if (slab is not TorchStateSlab own || !ReferenceEquals(own.Owner, this))
        {
            throw new ArgumentException(
                $"the slab was not created by this layer (layer {Shape.Index}, {Shape.Mode.ToTorchName()} on {_device}); " +
                "use the slab from this layer's CreateSlab.", nameof(slab));
        }

        return own;
    }

    private Tensor State(ReadOnlyMemory<float> values, long[] shape) =>
        values.IsEmpty ? zeros(shape, ScalarType.Float32, _device) : DeviceTransfer.Upload(values.Span, shape, _device);

    private (Tensor Output, Tensor HN, Tensor? CN) RunCells(Tensor x, Tensor h0, Tensor? c0)
    {
        var steps = x.shape[0];
        var output = empty([steps, x.shape[1], Shape.SequenceOutputSize], ScalarType.Float32, _device);
        var hn = empty_like(h0);
        var cn = c0 is null ? null : empty_like(c0);
        for (var d = 0; d < Shape.Directions; d++)
        {
            var (h, c) = CellSequence.Run(_cells[d], x, h0[d], c0?[d], d, output);
            hn[d].copy_(h);
            cn?[d].copy_(c!);
        }

        return (output, hn, cn);
    }

    private void DisposeCells()
    {
        foreach (var cell in _cells)
        {
            cell.Dispose();
        }
    }
}
