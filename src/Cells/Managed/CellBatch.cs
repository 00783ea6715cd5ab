using Streaming.Cells.Model;

namespace Streaming.Cells.Managed;

/// <summary>
/// The element-wise cell over the rows of one batch, on the calling thread or, for large batches,
/// spread over the worker pool. Each layer owns one; the pointers describe the call in flight.
/// </summary>
internal sealed unsafe class CellBatch : IParallelWork
{
    /// <summary>Below this many gate values the element-wise work is a few microseconds: not worth a handoff.</summary>
    public const int ParallelGateValues = 1 << 14;

    private readonly RecurrentMode _mode;
    private readonly int _hidden;
    private readonly int _gateWidth;
    private readonly WorkerPool? _pool;

    private int _rows;
    private float* _gates;
    private float* _hiddenGates;
    private float* _previous;
    private nint _previousStride;
    private float* _cells;
    private nint _cellStride;
    private int* _cellRows;
    private float* _outputs;
    private nint _outputStride;

    public CellBatch(RecurrentMode mode, int hidden, WorkerPool? pool)
    {
        _mode = mode;
        _hidden = hidden;
        _gateWidth = mode.GateCount() * hidden;
        _pool = pool;
    }

    /// <summary>
    /// Runs the cell on <paramref name="rows"/> rows. Row b reads gates at <c>gates + b * gateWidth</c>
    /// (and, for GRU, the hidden-side gates and the previous h), updates c at
    /// <c>cells + (cellRows?[b] ?? b) * cellStride</c> for LSTM, and writes h (for LSTM with projection,
    /// o ⊙ tanh(c) before W_hr) at <c>outputs + b * outputStride</c>.
    /// </summary>
    public void Run(
        int rows, float* gates, float* hiddenGates, float* previous, nint previousStride,
        float* cells, nint cellStride, int* cellRows, float* outputs, nint outputStride)
    {
        _rows = rows;
        _gates = gates;
        _hiddenGates = hiddenGates;
        _previous = previous;
        _previousStride = previousStride;
        _cells = cells;
        _cellStride = cellStride;
        _cellRows = cellRows;
        _outputs = outputs;
        _outputStride = outputStride;
        if (_pool is not null && rows > 1 && (long)rows * _gateWidth >= ParallelGateValues
            && _pool.TryRun(this, Math.Min(rows, 4 * (_pool.Workers + 1))))
        {
            return;
        }

        Rows(0, rows);
    }

    /// <inheritdoc />
    public void Execute(int chunk, int chunks) => Rows(_rows * chunk / chunks, _rows * (chunk + 1) / chunks);

    private void Rows(int start, int end)
    {
        var hidden = _hidden;
        for (var b = start; b < end; b++)
        {
            var gates = new Span<float>(_gates + b * (nint)_gateWidth, _gateWidth);
            var output = new Span<float>(_outputs + b * _outputStride, hidden);
            switch (_mode)
            {
                case RecurrentMode.Lstm:
                    var cellRow = _cellRows is null ? b : _cellRows[b];
                    CellMath.Lstm(gates, new Span<float>(_cells + cellRow * _cellStride, hidden), output);
                    break;
                case RecurrentMode.Gru:
                    CellMath.Gru(
                        gates,
                        new ReadOnlySpan<float>(_hiddenGates + b * (nint)_gateWidth, _gateWidth),
                        new ReadOnlySpan<float>(_previous + b * _previousStride, hidden),
                        output);
                    break;
                default:
                    CellMath.Rnn(_mode, gates, output);
                    break;
            }
        }
    }
}
