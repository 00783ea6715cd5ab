using System.Diagnostics;

namespace Streaming.Cells.Managed;

/// <summary>
/// A weight matrix W (rows x columns, PyTorch's row-major layout, used as C = A·Wᵀ) repacked once into
/// panels of <see cref="PanelWidth"/> output columns: panel p holds, for each k, the 32 values
/// W[32p .. 32p+31, k] side by side, so the micro-kernel reads one contiguous vector pair per k.
/// The last panel is zero-padded. Storage is pinned and 64-byte aligned, so the raw pointers stay valid.
/// </summary>
internal sealed unsafe class PackedMatrix
{
    /// <summary>Output columns per panel: two 16-float vectors.</summary>
    public const int PanelWidth = 32;

    private const int AlignFloats = 16;

    // Kept only to own the pinned memory the pointers below point into.
    private readonly float[] _storage;

    /// <summary>Packs <paramref name="weight"/>; row j of the packed matrix is source row <c>rowOrder[j]</c> (identity when empty).</summary>
    public PackedMatrix(ReadOnlySpan<float> weight, int rows, int columns, ReadOnlySpan<float> bias = default, ReadOnlySpan<int> rowOrder = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(columns, 1);
        if (weight.Length != rows * columns)
        {
            throw new ArgumentException($"weight has {weight.Length} values; expected {rows} x {columns} = {rows * columns}.", nameof(weight));
        }

        if (!bias.IsEmpty && bias.Length != rows)
        {
            throw new ArgumentException($"bias has {bias.Length} values; expected {rows}.", nameof(bias));
        }

        if (!rowOrder.IsEmpty && rowOrder.Length != rows)
        {
            throw new ArgumentException($"rowOrder has {rowOrder.Length} entries; expected {rows}.", nameof(rowOrder));
        }

        Rows = rows;
        Columns = columns;
        Panels = (rows + PanelWidth - 1) / PanelWidth;
        var dataLength = (long)Panels * columns * PanelWidth;
        var biasLength = bias.IsEmpty ? 0 : Panels * PanelWidth;
        _storage = GC.AllocateArray<float>(checked((int)(dataLength + biasLength + AlignFloats)), pinned: true);
        fixed (float* start = _storage)
        {
            var offset = (int)((AlignFloats * sizeof(float) - ((nuint)start % (AlignFloats * sizeof(float)))) / sizeof(float)) % AlignFloats;
            Data = start + offset;
        }

        Debug.Assert((nuint)Data % 64 == 0, "packed panels must be 64-byte aligned for full-width loads");
        for (var j = 0; j < rows; j++)
        {
            var source = rowOrder.IsEmpty ? j : rowOrder[j];
            var row = weight.Slice(source * columns, columns);
            var panel = Data + (long)(j / PanelWidth) * columns * PanelWidth;
            var lane = j % PanelWidth;
            for (var k = 0; k < columns; k++)
            {
                panel[k * PanelWidth + lane] = row[k];
            }
        }

        if (!bias.IsEmpty)
        {
            Bias = Data + dataLength;
            for (var j = 0; j < rows; j++)
            {
                Bias[j] = bias[rowOrder.IsEmpty ? j : rowOrder[j]];
            }
        }
    }

    /// <summary>Rows of W: output columns of the product (N).</summary>
    public int Rows { get; }

    /// <summary>Columns of W: the shared dimension (K).</summary>
    public int Columns { get; }

    /// <summary>Panels of 32 output columns.</summary>
    public int Panels { get; }

    /// <summary>Panel p starts at <c>Data + p * Columns * 32</c>.</summary>
    public float* Data { get; }

    /// <summary>The bias, padded to whole panels, or null.</summary>
    public float* Bias { get; }

    /// <summary>Floats between consecutive panels.</summary>
    public nint PanelStride => (nint)Columns * PanelWidth;
}
