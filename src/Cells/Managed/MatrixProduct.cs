using System.Diagnostics;

namespace Streaming.Cells.Managed;

/// <summary>
/// One caller's entry to the matrix kernel (each layer owns one, so layers on different threads never
/// share call state): runs a product on the calling thread, or splits it over the worker pool when it
/// is large enough that the handoff pays for itself.
/// </summary>
internal sealed unsafe class MatrixProduct : IParallelWork
{
    /// <summary>Products below this many flops stay on the calling thread (about 10 µs of one core's work)...</summary>
    public const long ParallelFlops = 2_000_000;

    /// <summary>
    /// ... unless W has at least this many values (512 KiB): a product with few rows is bound by reading W,
    /// and split by panels each core reads (and keeps in its own L2) only its share.
    /// </summary>
    public const long ParallelWeights = 128 * 1024;

    private readonly WorkerPool? _pool;

    // The product in flight, read by the parts; valid only during Multiply.
    private float* _a;
    private nint _lda;
    private int _rows;
    private PackedMatrix? _w;
    private float* _c;
    private nint _ldc;
    private bool _accumulate;
    private SimdLevel _level;
    private bool _splitPanels;

    /// <summary>Creates an entry that uses <paramref name="pool"/> when given, else always the calling thread.</summary>
    public MatrixProduct(WorkerPool? pool) => _pool = pool;

    /// <summary>The same product over bounds-checked spans.</summary>
    public void Multiply(ReadOnlySpan<float> a, int lda, int rows, PackedMatrix w, Span<float> c, int ldc, bool accumulate, SimdLevel level)
    {
        Gemm.CheckOperands(a.Length, lda, rows, w, c.Length, ldc);
        fixed (float* ap = a)
        fixed (float* cp = c)
        {
            Multiply(ap, lda, rows, w, cp, ldc, accumulate, level);
        }
    }

    /// <summary>
    /// C[rows x w.Rows] = A·Wᵀ (+ bias), or C += A·Wᵀ (no bias) when <paramref name="accumulate"/>, with the
    /// micro-kernels of <paramref name="level"/> (the width the kernel check chose for the caller's role).
    /// </summary>
    public void Multiply(float* a, nint lda, int rows, PackedMatrix w, float* c, nint ldc, bool accumulate, SimdLevel level)
    {
        Debug.Assert(rows >= 0 && lda >= w.Columns && ldc >= w.Rows);
        if (rows == 0)
        {
            return;
        }

        var flops = 2L * rows * w.Rows * w.Columns;
        if (_pool is not null && (flops >= ParallelFlops || (long)w.Rows * w.Columns >= ParallelWeights))
        {
            // Chunks of whole panels when there are enough panels, else of whole row tiles; a few chunks
            // per thread let a thread that started late (or was preempted) take fewer.
            var threads = _pool.Workers + 1;
            var tiles = (rows + Gemm.RowTile - 1) / Gemm.RowTile;
            _splitPanels = w.Panels >= 2 * threads || w.Panels >= tiles;
            var chunks = Math.Min(_splitPanels ? w.Panels : tiles, 4 * threads);
            if (chunks > 1)
            {
                _a = a;
                _lda = lda;
                _rows = rows;
                _w = w;
                _c = c;
                _ldc = ldc;
                _accumulate = accumulate;
                _level = level;
                var ran = _pool.TryRun(this, chunks);
                _w = null;
                if (ran)
                {
                    return;
                }
            }
        }

        Gemm.Multiply(a, lda, 0, rows, w, 0, w.Panels, c, ldc, accumulate, level);
    }

    /// <inheritdoc />
    public void Execute(int chunk, int chunks)
    {
        var w = _w!;
        if (_splitPanels)
        {
            var start = w.Panels * chunk / chunks;
            var end = w.Panels * (chunk + 1) / chunks;
            Gemm.Multiply(_a, _lda, 0, _rows, w, start, end, _c, _ldc, _accumulate, _level);
        }
        else
        {
            var tiles = (_rows + Gemm.RowTile - 1) / Gemm.RowTile;
            var start = Math.Min(_rows, tiles * chunk / chunks * Gemm.RowTile);
            var end = Math.Min(_rows, tiles * (chunk + 1) / chunks * Gemm.RowTile);
            Gemm.Multiply(_a, _lda, start, end, w, 0, w.Panels, _c, _ldc, _accumulate, _level);
        }
    }
}
