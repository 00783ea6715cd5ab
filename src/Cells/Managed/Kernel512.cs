using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Streaming.Cells.Managed;

/// <summary>AVX-512 micro-kernels: up to 6 rows x one 32-column panel, and 1 row x up to 4 panels.</summary>
internal static unsafe class Kernel512
{
    /// <summary>
    /// C[rows x 32] (init) + A[rows x kc]·panel over kc steps. 12 accumulators of 16 floats: each k
    /// loads two panel vectors and broadcasts one A value per row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TRows>(float* a, nint lda, float* b, int kc, float* c, nint ldc, TileInit init, float* bias)
        where TRows : struct, ICount
    {
        Vector512<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (init == TileInit.Load)
        {
            c00 = Vector512.Load(c);
            c01 = Vector512.Load(c + 16);
            c10 = TRows.Value > 1 ? Vector512.Load(c + ldc) : default;
            c11 = TRows.Value > 1 ? Vector512.Load(c + ldc + 16) : default;
            c20 = TRows.Value > 2 ? Vector512.Load(c + 2 * ldc) : default;
            c21 = TRows.Value > 2 ? Vector512.Load(c + 2 * ldc + 16) : default;
            c30 = TRows.Value > 3 ? Vector512.Load(c + 3 * ldc) : default;
            c31 = TRows.Value > 3 ? Vector512.Load(c + 3 * ldc + 16) : default;
            c40 = TRows.Value > 4 ? Vector512.Load(c + 4 * ldc) : default;
            c41 = TRows.Value > 4 ? Vector512.Load(c + 4 * ldc + 16) : default;
            c50 = TRows.Value > 5 ? Vector512.Load(c + 5 * ldc) : default;
            c51 = TRows.Value > 5 ? Vector512.Load(c + 5 * ldc + 16) : default;
        }
        else
        {
            var b0 = init == TileInit.Bias ? Vector512.Load(bias) : default;
            var b1 = init == TileInit.Bias ? Vector512.Load(bias + 16) : default;
            c00 = c10 = c20 = c30 = c40 = c50 = b0;
            c01 = c11 = c21 = c31 = c41 = c51 = b1;
        }

        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        for (nint k = 0; k < kc; k++)
        {
            var w0 = Vector512.Load(b);
            var w1 = Vector512.Load(b + 16);
            b += PackedMatrix.PanelWidth;
            var x = Vector512.Create(a0[k]);
            c00 = Vector512.FusedMultiplyAdd(x, w0, c00);
            c01 = Vector512.FusedMultiplyAdd(x, w1, c01);
            if (TRows.Value > 1)
            {
                x = Vector512.Create(a1[k]);
                c10 = Vector512.FusedMultiplyAdd(x, w0, c10);
                c11 = Vector512.FusedMultiplyAdd(x, w1, c11);
            }

            if (TRows.Value > 2)
            {
                x = Vector512.Create(a2[k]);
                c20 = Vector512.FusedMultiplyAdd(x, w0, c20);
                c21 = Vector512.FusedMultiplyAdd(x, w1, c21);
            }

            if (TRows.Value > 3)
            {
                x = Vector512.Create(a3[k]);
                c30 = Vector512.FusedMultiplyAdd(x, w0, c30);
                c31 = Vector512.FusedMultiplyAdd(x, w1, c31);
            }

            if (TRows.Value > 4)
            {
                x = Vector512.Create(a4[k]);
                c40 = Vector512.FusedMultiplyAdd(x, w0, c40);
                c41 = Vector512.FusedMultiplyAdd(x, w1, c41);
            }

            if (TRows.Value > 5)
            {
                x = Vector512.Create(a5[k]);
                c50 = Vector512.FusedMultiplyAdd(x, w0, c50);
                c51 = Vector512.FusedMultiplyAdd(x, w1, c51);
            }
        }

        c00.Store(c);
        c01.Store(c + 16);
        if (TRows.Value > 1)
        {
            c10.Store(c + ldc);
            c11.Store(c + ldc + 16);
        }

        if (TRows.Value > 2)
        {
            c20.Store(c + 2 * ldc);
            c21.Store(c + 2 * ldc + 16);
        }

        if (TRows.Value > 3)
        {
            c30.Store(c + 3 * ldc);
            c31.Store(c + 3 * ldc + 16);
        }

        if (TRows.Value > 4)
        {
            c40.Store(c + 4 * ldc);
            c41.Store(c + 4 * ldc + 16);
        }

        if (TRows.Value > 5)
        {
            c50.Store(c + 5 * ldc);
            c51.Store(c + 5 * ldc + 16);
        }
    }

    /// <summary>
    /// One row against <typeparamref name="TPanels"/> whole panels at once (C is 32 x panels contiguous
    /// floats): a single row gives a tile only two accumulator chains, which leaves the FMA units
    /// waiting on latency; spreading it over up to four panels gives eight independent chains.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row<TPanels>(float* a, float* b, nint panelStride, int kc, float* c, TileInit init, float* bias)
        where TPanels : struct, ICount
    {
        Vector512<float> c0, c1, c2, c3, c4, c5, c6, c7;
        if (init == TileInit.Load)
        {
            c0 = Vector512.Load(c);
            c1 = Vector512.Load(c + 16);
            c2 = TPanels.Value > 1 ? Vector512.Load(c + 32) : default;
            c3 = TPanels.Value > 1 ? Vector512.Load(c + 48) : default;
            c4 = TPanels.Value > 2 ? Vector512.Load(c + 64) : default;
            c5 = TPanels.Value > 2 ? Vector512.Load(c + 80) : default;
            c6 = TPanels.Value > 3 ? Vector512.Load(c + 96) : default;
            c7 = TPanels.Value > 3 ? Vector512.Load(c + 112) : default;
        }
        else if (init == TileInit.Bias)
        {
            c0 = Vector512.Load(bias);
            c1 = Vector512.Load(bias + 16);
            c2 = TPanels.Value > 1 ? Vector512.Load(bias + 32) : default;
            c3 = TPanels.Value > 1 ? Vector512.Load(bias + 48) : default;
            c4 = TPanels.Value > 2 ? Vector512.Load(bias + 64) : default;
            c5 = TPanels.Value > 2 ? Vector512.Load(bias + 80) : default;
            c6 = TPanels.Value > 3 ? Vector512.Load(bias + 96) : default;
            c7 = TPanels.Value > 3 ? Vector512.Load(bias + 112) : default;
        }
        else
        {
            c0 = c1 = c2 = c3 = c4 = c5 = c6 = c7 = default;
        }

        float* b1 = b + panelStride, b2 = b + 2 * panelStride, b3 = b + 3 * panelStride;
        for (nint k = 0; k < kc; k++)
        {
            var x = Vector512.Create(a[k]);
            var o = k * PackedMatrix.PanelWidth;
            c0 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + o), c0);
            c1 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b + o + 16), c1);
            if (TPanels.Value > 1)
            {
                c2 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b1 + o), c2);
                c3 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b1 + o + 16), c3);
            }

            if (TPanels.Value > 2)
            {
                c4 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b2 + o), c4);
                c5 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b2 + o + 16), c5);
            }

            if (TPanels.Value > 3)
            {
                c6 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b3 + o), c6);
                c7 = Vector512.FusedMultiplyAdd(x, Vector512.Load(b3 + o + 16), c7);
            }
        }

        c0.Store(c);
        c1.Store(c + 16);
        if (TPanels.Value > 1)
        {
            c2.Store(c + 32);
            c3.Store(c + 48);
        }

        if (TPanels.Value > 2)
        {
            c4.Store(c + 64);
            c5.Store(c + 80);
        }

        if (TPanels.Value > 3)
        {
            c6.Store(c + 96);
            c7.Store(c + 112);
        }
    }
}
