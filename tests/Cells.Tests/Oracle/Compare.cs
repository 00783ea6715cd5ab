namespace Streaming.Cells.Tests.Oracle;

/// <summary>Element-wise comparison with a message that says where the largest difference is.</summary>
internal static class Compare
{
    /// <summary>fp32 parity with libtorch: the brief's bound.</summary>
    public const double Fp32Tolerance = 1e-5;

    public static double MaxAbsDiff(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = Math.Abs((double)expected[i] - actual[i]);
            if (double.IsNaN(d))
            {
                return double.PositiveInfinity;
            }

            max = Math.Max(max, d);
        }

        return max;
    }

    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, double tolerance = Fp32Tolerance)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, got {actual.Length}");
        var worst = -1;
        double max = 0;
        for (var i = 0; i < expected.Length; i++)
        {
            var d = Math.Abs((double)expected[i] - actual[i]);
            if (double.IsNaN(d) || d > max)
            {
                max = double.IsNaN(d) ? double.PositiveInfinity : d;
                worst = i;
            }
        }

        if (max > tolerance)
        {
            Assert.Fail($"{what}: max |diff| {max:E3} > {tolerance:E1} at index {worst} (expected {expected[worst]}, got {actual[worst]})");
        }
    }
}
