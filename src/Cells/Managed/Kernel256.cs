using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Streaming.Cells.Managed;

/// <summary>AVX2/FMA micro-kernel for machines without AVX-512: up to 6 rows x 16 columns.</summary>
internal static unsafe class Kernel256
{
    /// <summary>
    /// C[rows x 16] (init) + A[rows x kc]·(half a panel) over kc steps: 12 accumulators of 8 floats, which
    /// with the two panel vectors and the broadcast fits AVX2's 16 registers. Called once per panel half.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TRows>(float* a, nint lda, float* b, int kc, float* c, nint ldc, TileInit init, float* bias)
        where TRows : struct, ICount
    {
        Vector256<float> c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
        if (init == TileInit.Load)
        {
            c00 = Vector256.Load(c);
            c01 = Vector256.Load(c + 8);
            c10 = TRows.Value > 1 ? Vector256.Load(c + ldc) : default;
            c11 = TRows.Value > 1 ? Vector256.Load(c + ldc + 8) : default;
            c20 = TRows.Value > 2 ? Vector256.Load(c + 2 * ldc) : default;
            c21 = TRows.Value > 2 ? Vector256.Load(c + 2 * ldc + 8) : default;
            c30 = TRows.Value > 3 ? Vector256.Load(c + 3 * ldc) : default;
            c31 = TRows.Value > 3 ? Vector256.Load(c + 3 * ldc + 8) : default;
            c40 = TRows.Value > 4 ? Vector256.Load(c + 4 * ldc) : default;
            c41 = TRows.Value > 4 ? Vector256.Load(c + 4 * ldc + 8) : default;
            c50 = TRows.Value > 5 ? Vector256.Load(c + 5 * ldc) : default;
            c51 = TRows.Value > 5 ? Vector256.Load(c + 5 * ldc + 8) : default;
        }
        else
        {
            var b0 = init == TileInit.Bias ? Vector256.Load(bias) : default;
            var b1 = init == TileInit.Bias ? Vector256.Load(bias + 8) : default;
            c00 = c10 = c20 = c30 = c40 = c50 = b0;
            c01 = c11 = c21 = c31 = c41 = c51 = b1;
        }

        float* a0 = a, a1 = a + lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda;
        for (nint k = 0; k < kc; k++)
        {
            var w0 = Vector256.Load(b);
            var w1 = Vector256.Load(b + 8);
            b += PackedMatrix.PanelWidth;
            var x = Vector256.Create(a0[k]);
            c00 = Vector256.FusedMultiplyAdd(x, w0, c00);
            c01 = Vector256.FusedMultiplyAdd(x, w1, c01);
            if (TRows.Value > 1)
            {
                x = Vector256.Create(a1[k]);
                c10 = Vector256.FusedMultiplyAdd(x, w0, c10);
                c11 = Vector256.FusedMultiplyAdd(x, w1, c11);
            }

            if (TRows.Value > 2)
            {
                x = Vector256.Create(a2[k]);
                c20 = Vector256.FusedMultiplyAdd(x, w0, c20);
                c21 = Vector256.FusedMultiplyAdd(x, w1, c21);
            }

            if (TRows.Value > 3)
            {
                x = Vector256.Create(a3[k]);
                c30 = Vector256.FusedMultiplyAdd(x, w0, c30);
                c31 = Vector256.FusedMultiplyAdd(x, w1, c31);
            }

            if (TRows.Value > 4)
            {
                x = Vector256.Create(a4[k]);
                c40 = Vector256.FusedMultiplyAdd(x, w0, c40);
                c41 = Vector256.FusedMultiplyAdd(x, w1, c41);
            }

            if (TRows.Value > 5)
            {
                x = Vector256.Create(a5[k]);
                c50 = Vector256.FusedMultiplyAdd(x, w0, c50);
                c51 = Vector256.FusedMultiplyAdd(x, w1, c51);
            }
        }

        c00.Store(c);
        c01.Store(c + 8);
        if (TRows.Value > 1)
        {
            c10.Store(c + ldc);
            c11.Store(c + ldc + 8);
        }

        if (TRows.Value > 2)
        {
            c20.Store(c + 2 * ldc);
            c21.Store(c + 2 * ldc + 8);
        }

        if (TRows.Value > 3)
        {
            c30.Store(c + 3 * ldc);
            c31.Store(c + 3 * ldc + 8);
        }

        if (TRows.Value > 4)
        {
            c40.Store(c + 4 * ldc);
            c41.Store(c + 4 * ldc + 8);
        }

        if (TRows.Value > 5)
        {
            c50.Store(c + 5 * ldc);
            c51.Store(c + 5 * ldc + 8);
        }
    }
}
