namespace Streaming.Tests.Engine;

internal static class Expect
{
    public const float Tolerance = 1e-5f;

    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, found {actual.Length}.");
        for (var i = 0; i < expected.Length; i++)
        {
            if (!(Math.Abs(expected[i] - actual[i]) <= Tolerance))
            {
                Assert.Fail($"{what}: value {i} is {actual[i]}, expected {expected[i]} (tolerance {Tolerance}).");
            }
        }
    }

    public static void BitExact(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: expected {expected.Length} values, found {actual.Length}.");
        for (var i = 0; i < expected.Length; i++)
        {
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
            {
                Assert.Fail($"{what}: value {i} is {actual[i]}, expected exactly {expected[i]}.");
            }
        }
    }
}
