using Streaming.Cells.Model;
using TorchSharp;

namespace Streaming.Benchmarks;

/// <summary>
/// The machine's matrix-product peak, measured once a run: libtorch's fp32 <c>mm</c> of two 2048 x 2048 matrices on its
/// threads (median of 7 after a warm-up), as GFLOP/s. Throughput figures are quoted also as a fraction of it, so that a
/// figure from a faster or slower machine (or one slowed by its neighbours) reads the same.
/// </summary>
internal static class MatrixPeak
{
    private const int Size = 2048;
    private static readonly Lazy<double> Measured = new(MeasurePeak);

    /// <summary>The peak in FLOP/s.</summary>
    public static double FlopsPerSecond => Measured.Value;

    /// <summary>One line for the run's header.</summary>
    public static string Describe() =>
        $"> Matrix-product peak of this run: {FlopsPerSecond / 1e9:F1} GFLOP/s (libtorch fp32 mm, {Size} x {Size} by {Size} x {Size}, {torch.get_num_threads()} threads); \"of peak\" columns are fractions of it.\n";

    /// <summary>A rate of <paramref name="flopsPerSecond"/> as a percentage of the peak, e.g. "41%".</summary>
    public static string Of(double flopsPerSecond) => $"{flopsPerSecond / FlopsPerSecond:P0}";

    /// <summary>A token rate through <paramref name="spec"/>'s recurrent layers as a percentage of the peak.</summary>
    public static string OfTokens(double tokensPerSecond, RecurrentSpec spec) => Of(tokensPerSecond * FlopsPerToken(spec));

    /// <summary>Multiply-adds of one token through every recurrent layer, times two (the batched step's and the bulk call's work).</summary>
    public static double FlopsPerToken(RecurrentSpec spec)
    {
        double flops = 0;
        for (var layer = 0; layer < spec.NumLayers; layer++)
        {
            var input = layer == 0 ? spec.InputSize : spec.Directions * spec.OutputSize;
            flops += 2.0 * spec.Directions * spec.Mode.GateCount() * spec.HiddenSize * (input + spec.OutputSize);
        }

        return flops;
    }

    private static double MeasurePeak()
    {
        using var mode = torch.inference_mode();
        using var a = torch.rand(Size, Size);
        using var b = torch.rand(Size, Size);
        var seconds = Measure.MedianSeconds(() =>
        {
            using var scope = torch.NewDisposeScope();
            torch.mm(a, b);
        }, 7);
        return 2.0 * Size * Size * Size / seconds;
    }
}
