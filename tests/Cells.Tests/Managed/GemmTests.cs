using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Streaming.Cells.Managed;
using Streaming.Cells.Tests.Oracle;

namespace Streaming.Cells.Tests.Managed;

/// <summary>The matrix kernel against a naive float64 double loop: C = A·Wᵀ (+ bias), C += A·Wᵀ.</summary>
public sealed class GemmTests
{
    public static TheoryData<int, int, int, string> ShapesAndLevels()
    {
        var data = new TheoryData<int, int, int, string>();
        (int M, int N, int K)[] shapes =
        [
            (1, 1, 1), (1, 128, 32), (1, 100, 33), (1, 1000, 300), (1, 160, 7), (2, 33, 17), (3, 31, 15),
            (5, 64, 1), (6, 32, 16), (7, 65, 300), (13, 64, 513), (97, 96, 40), (200, 130, 270),
        ];
        foreach (var level in AvailableLevels())
        {
            foreach (var (m, n, k) in shapes)
            {
                data.Add(m, n, k, level.ToString());
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ShapesAndLevels))]
    public void Product_with_bias_matches_a_naive_double_loop(int m, int n, int k, string levelName)
    {
        var level = Enum.Parse<SimdLevel>(levelName);
        var random = new Random(m * 7919 + n * 31 + k);
        var a = RandomWeights.Vector(random, m * k);
        var w = RandomWeights.Vector(random, n * k);
        var bias = RandomWeights.Vector(random, n);
        var c = new float[m * n];

        Gemm.Multiply(a, k, m, new PackedMatrix(w, n, k, bias), c, n, accumulate: false, level);

        AssertProduct(a, k, w, bias, initial: null, m, n, k, c, n);
    }

    [Theory]
    [MemberData(nameof(ShapesAndLevels))]
    public void Accumulating_adds_the_product_to_what_C_holds_and_ignores_the_bias(int m, int n, int k, string levelName)
    {
        var level = Enum.Parse<SimdLevel>(levelName);
        var random = new Random(m * 131 + n * 17 + k);
        var a = RandomWeights.Vector(random, m * k);
        var w = RandomWeights.Vector(random, n * k);
        var initial = RandomWeights.Vector(random, m * n);
        var c = initial.ToArray();

        Gemm.Multiply(a, k, m, new PackedMatrix(w, n, k, RandomWeights.Vector(random, n)), c, n, accumulate: true, level);

        AssertProduct(a, k, w, bias: null, initial, m, n, k, c, n);
    }

    [Theory]
    [MemberData(nameof(ShapesAndLevels))]
    public void Strided_operands_leave_the_gaps_between_rows_untouched(int m, int n, int k, string levelName)
    {
        var level = Enum.Parse<SimdLevel>(levelName);
        int lda = k + 3, ldc = n + 5;
        var random = new Random(m + n + k);
        var a = RandomWeights.Vector(random, m * lda);
        var w = RandomWeights.Vector(random, n * k);
        var c = Enumerable.Repeat(42f, m * ldc).ToArray();

        Gemm.Multiply(a, lda, m, new PackedMatrix(w, n, k), c, ldc, accumulate: false, level);

        AssertProduct(a, lda, w, bias: null, initial: null, m, n, k, c, ldc);
        for (var i = 0; i < m; i++)
        {
            Assert.All(c.AsSpan(i * ldc + n, ldc - n).ToArray(), v => Assert.Equal(42f, v));
        }
    }

    [Theory]
    [InlineData(256, 1024, 128, false)]
    [InlineData(1024, 1024, 256, true)]
    [InlineData(300, 40, 200, false)]
    [InlineData(1, 8192, 512, true)]
    [InlineData(64, 1024, 256, true)]
    public void Products_split_over_threads_equal_the_single_thread_product_exactly(int m, int n, int k, bool accumulate)
    {
        Assert.True(2L * m * n * k >= MatrixProduct.ParallelFlops, "the shape must be large enough to be split");
        var random = new Random(5);
        var a = RandomWeights.Vector(random, m * k);
        var packed = new PackedMatrix(RandomWeights.Vector(random, n * k), n, k, RandomWeights.Vector(random, n));
        var initial = RandomWeights.Vector(random, m * n);
        var single = initial.ToArray();
        var split = initial.ToArray();
        using var pool = new WorkerPool(1);

        new MatrixProduct(null).Multiply(a, k, m, packed, single, n, accumulate, Gemm.DefaultLevel);
        new MatrixProduct(pool).Multiply(a, k, m, packed, split, n, accumulate, Gemm.DefaultLevel);

        Assert.Equal(single, split);
    }

    [Fact]
    public void Operands_too_short_for_the_product_are_refused_with_the_sizes()
    {
        var packed = new PackedMatrix(new float[6], 2, 3);
        var tooShortA = Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[5], 3, 2, packed, new float[4], 2, false, SimdLevel.Scalar));
        Assert.Contains("A has 5 floats", tooShortA.Message, StringComparison.Ordinal);
        var tooShortC = Assert.Throws<ArgumentException>(() => Gemm.Multiply(new float[6], 3, 2, packed, new float[3], 2, false, SimdLevel.Scalar));
        Assert.Contains("C has 3 floats", tooShortC.Message, StringComparison.Ordinal);
    }

    private static IEnumerable<SimdLevel> AvailableLevels()
    {
        yield return SimdLevel.Scalar;
        if (Vector256.IsHardwareAccelerated && Fma.IsSupported)
        {
            yield return SimdLevel.Vector256;
        }

        if (Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
        {
            yield return SimdLevel.Vector512;
        }
    }

    private static void AssertProduct(float[] a, int lda, float[] w, float[]? bias, float[]? initial, int m, int n, int k, float[] c, int ldc)
    {
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < n; j++)
            {
                double sum = (initial?[i * n + j] ?? 0) + (bias?[j] ?? 0), magnitude = Math.Abs(sum);
                for (var q = 0; q < k; q++)
                {
                    var term = (double)a[i * lda + q] * w[j * k + q];
                    sum += term;
                    magnitude += Math.Abs(term);
                }

                // fp32 accumulation over k terms: a bound proportional to the terms' magnitude.
                var tolerance = 1e-6 * (1 + magnitude);
                var actual = c[i * ldc + j];
                Assert.True(Math.Abs(sum - actual) <= tolerance, $"C[{i},{j}] = {actual}, expected {sum} (tolerance {tolerance:E1})");
            }
        }
    }
}
