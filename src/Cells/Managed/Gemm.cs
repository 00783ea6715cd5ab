using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Streaming.Cells.Managed;

/// <summary>
/// The cache-blocked matrix kernel: C[M x N] = A[M x K]·Wᵀ (+ bias row), or C += A·Wᵀ, with W packed
/// into 32-column panels (<see cref="PackedMatrix"/>). Single-threaded over a range of rows and panels;
/// <see cref="MatrixProduct"/> splits larger products over threads.
/// </summary>
// The edge tile is scratch that is always written before it is read: no need to zero it on every call.
[SkipLocalsInit]
internal static unsafe class Gemm
{
    /// <summary>Rows per micro-tile.</summary>
    public const int RowTile = 6;

    /// <summary>K steps per block: a panel's block (DepthBlock x 32 floats) stays in L1 while row tiles stream past it.</summary>
    public const int DepthBlock = 256;

    /// <summary>Rows per block: the A block (RowBlock x DepthBlock floats) stays in L2 while panels stream past it.</summary>
    public const int RowBlock = 96;

    /// <summary>The widest instruction set this machine accelerates.</summary>
    public static SimdLevel DefaultLevel { get; } =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? SimdLevel.Vector512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? SimdLevel.Vector256
        : SimdLevel.Scalar;

    /// <summary>The whole product, on this thread, with the default instruction set.</summary>
    public static void Multiply(float* a, nint lda, int rows, PackedMatrix w, float* c, nint ldc, bool accumulate) =>
        Multiply(a, lda, 0, rows, w, 0, w.Panels, c, ldc, accumulate, DefaultLevel);

    /// <summary>The whole product on this thread with a chosen instruction set, over bounds-checked spans.</summary>
    public static void Multiply(ReadOnlySpan<float> a, int lda, int rows, PackedMatrix w, Span<float> c, int ldc, bool accumulate, SimdLevel level)
    {
        CheckOperands(a.Length, lda, rows, w, c.Length, ldc);
        fixed (float* ap = a)
        fixed (float* cp = c)
        {
            Multiply(ap, lda, 0, rows, w, 0, w.Panels, cp, ldc, accumulate, level);
        }
    }

    /// <summary>Throws unless A (rows x lda) and C (rows x ldc) hold the product's operands.</summary>
    public static void CheckOperands(int aLength, int lda, int rows, PackedMatrix w, int cLength, int ldc)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(lda, w.Columns);
        ArgumentOutOfRangeException.ThrowIfLessThan(ldc, w.Rows);
        if (rows > 0 && aLength < (long)(rows - 1) * lda + w.Columns)
        {
            throw new ArgumentException($"A has {aLength} floats; {rows} rows of stride {lda} over {w.Columns} columns need {(long)(rows - 1) * lda + w.Columns}.", nameof(aLength));
        }

        if (rows > 0 && cLength < (long)(rows - 1) * ldc + w.Rows)
        {
            throw new ArgumentException($"C has {cLength} floats; {rows} rows of stride {ldc} over {w.Rows} columns need {(long)(rows - 1) * ldc + w.Rows}.", nameof(cLength));
        }
    }

    /// <summary>
    /// Rows [rowStart, rowEnd) of C and the output columns of panels [panelStart, panelEnd). A is
    /// row-major with stride <paramref name="lda"/>, C with stride <paramref name="ldc"/>. Without
    /// <paramref name="accumulate"/>, C is overwritten with A·Wᵀ plus W's bias when it has one.
    /// </summary>
    public static void Multiply(
        float* a, nint lda, int rowStart, int rowEnd, PackedMatrix w, int panelStart, int panelEnd,
        float* c, nint ldc, bool accumulate, SimdLevel level)
    {
        Debug.Assert(rowStart >= 0 && rowEnd >= rowStart && panelStart >= 0 && panelEnd <= w.Panels);
        int depth = w.Columns, outputs = w.Rows, depthBlock = DepthBlock, rowBlock = RowBlock;
        var panelStride = w.PanelStride;
        var edge = stackalloc float[RowTile * PackedMatrix.PanelWidth];
        for (var k0 = 0; k0 < depth; k0 += depthBlock)
        {
            var kc = Math.Min(depthBlock, depth - k0);
            // Later depth blocks add onto what the earlier ones left in C.
            var init = k0 > 0 || accumulate ? TileInit.Load : w.Bias != null ? TileInit.Bias : TileInit.Zero;
            for (var mb = rowStart; mb < rowEnd; mb += rowBlock)
            {
                var mEnd = Math.Min(mb + rowBlock, rowEnd);
                var p = panelStart;
                if (mEnd - mb == 1 && level == SimdLevel.Vector512)
                {
                    p = RowPanels(a + mb * lda + k0, w, p, panelEnd, k0, kc, c + mb * ldc, init);
                }

                for (; p < panelEnd; p++)
                {
                    var bp = w.Data + p * panelStride + (nint)k0 * PackedMatrix.PanelWidth;
                    var bias = w.Bias + p * PackedMatrix.PanelWidth;
                    var cols = Math.Min(PackedMatrix.PanelWidth, outputs - p * PackedMatrix.PanelWidth);
                    for (var m = mb; m < mEnd; m += RowTile)
                    {
                        var rows = Math.Min(RowTile, mEnd - m);
                        var ap = a + m * lda + k0;
                        var cp = c + m * ldc + p * PackedMatrix.PanelWidth;
                        if (cols == PackedMatrix.PanelWidth)
                        {
                            Tile(level, rows, ap, lda, bp, kc, cp, ldc, init, bias);
                        }
                        else
                        {
                            // A partial last panel computes into a full-width scratch tile so kernels never touch C past its columns.
                            if (init == TileInit.Load)
                            {
                                CopyTile(cp, ldc, edge, PackedMatrix.PanelWidth, rows, cols);
                            }

                            Tile(level, rows, ap, lda, bp, kc, edge, PackedMatrix.PanelWidth, init, bias);
                            CopyTile(edge, PackedMatrix.PanelWidth, cp, ldc, rows, cols);
                        }
                    }
                }
            }
        }
    }

    /// <summary>One row over whole panels, four at a time; returns the first panel left for the tile path.</summary>
    private static int RowPanels(float* a, PackedMatrix w, int p, int panelEnd, int k0, int kc, float* c, TileInit init)
    {
        var full = Math.Min(panelEnd, w.Rows / PackedMatrix.PanelWidth);
        var stride = w.PanelStride;
        while (p < full)
        {
            var bp = w.Data + p * stride + (nint)k0 * PackedMatrix.PanelWidth;
            var bias = w.Bias + p * PackedMatrix.PanelWidth;
            var cp = c + p * PackedMatrix.PanelWidth;
            var count = Math.Min(4, full - p);
            switch (count)
            {
                case 1: Kernel512.Row<Count1>(a, bp, stride, kc, cp, init, bias); break;
                case 2: Kernel512.Row<Count2>(a, bp, stride, kc, cp, init, bias); break;
                case 3: Kernel512.Row<Count3>(a, bp, stride, kc, cp, init, bias); break;
                default: Kernel512.Row<Count4>(a, bp, stride, kc, cp, init, bias); break;
            }

            p += count;
        }

        return p;
    }

    private static void Tile(SimdLevel level, int rows, float* a, nint lda, float* b, int kc, float* c, nint ldc, TileInit init, float* bias)
    {
        switch (level)
        {
            case SimdLevel.Vector512:
                switch (rows)
                {
                    case 1: Kernel512.Tile<Count1>(a, lda, b, kc, c, ldc, init, bias); break;
                    case 2: Kernel512.Tile<Count2>(a, lda, b, kc, c, ldc, init, bias); break;
                    case 3: Kernel512.Tile<Count3>(a, lda, b, kc, c, ldc, init, bias); break;
                    case 4: Kernel512.Tile<Count4>(a, lda, b, kc, c, ldc, init, bias); break;
                    case 5: Kernel512.Tile<Count5>(a, lda, b, kc, c, ldc, init, bias); break;
                    default: Kernel512.Tile<Count6>(a, lda, b, kc, c, ldc, init, bias); break;
                }

                break;
            case SimdLevel.Vector256:
                Tile256(rows, a, lda, b, kc, c, ldc, init, bias);
                Tile256(rows, a, lda, b + 16, kc, c + 16, ldc, init, bias + 16);
                break;
            default:
                TileScalar(rows, a, lda, b, kc, c, ldc, init, bias);
                break;
        }
    }

    private static void Tile256(int rows, float* a, nint lda, float* b, int kc, float* c, nint ldc, TileInit init, float* bias)
    {
        switch (rows)
        {
            case 1: Kernel256.Tile<Count1>(a, lda, b, kc, c, ldc, init, bias); break;
            case 2: Kernel256.Tile<Count2>(a, lda, b, kc, c, ldc, init, bias); break;
            case 3: Kernel256.Tile<Count3>(a, lda, b, kc, c, ldc, init, bias); break;
            case 4: Kernel256.Tile<Count4>(a, lda, b, kc, c, ldc, init, bias); break;
            case 5: Kernel256.Tile<Count5>(a, lda, b, kc, c, ldc, init, bias); break;
            default: Kernel256.Tile<Count6>(a, lda, b, kc, c, ldc, init, bias); break;
        }
    }

    private static void TileScalar(int rows, float* a, nint lda, float* b, int kc, float* c, nint ldc, TileInit init, float* bias)
    {
        const int width = PackedMatrix.PanelWidth;
        var acc = stackalloc float[width];
        for (var r = 0; r < rows; r++)
        {
            var cr = c + r * ldc;
            var ar = a + r * lda;
            for (var j = 0; j < width; j++)
            {
                acc[j] = init switch { TileInit.Load => cr[j], TileInit.Bias => bias[j], _ => 0f };
            }

            for (var k = 0; k < kc; k++)
            {
                var x = ar[k];
                var bk = b + k * width;
                for (var j = 0; j < width; j++)
                {
                    acc[j] = MathF.FusedMultiplyAdd(x, bk[j], acc[j]);
                }
            }

            new ReadOnlySpan<float>(acc, width).CopyTo(new Span<float>(cr, width));
        }
    }

    private static void CopyTile(float* from, nint fromStride, float* to, nint toStride, int rows, int cols)
    {
        for (var r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(from + r * fromStride, cols).CopyTo(new Span<float>(to + r * toStride, cols));
        }
    }
}
