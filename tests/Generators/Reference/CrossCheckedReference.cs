using System.Globalization;
using Streaming.Cells.Weights;

namespace Streaming.Generators.Reference;

/// <summary>
/// Expectations from a primary model (libtorch's modules) that must agree with the float64 transcription of PyTorch's
/// equations on every value, or generation stops: a recording whose expectations came from a library kernel that is
/// wrong on the generating CPU (libtorch 2.10's oneDNN LSTM on AMD Zen 5) would fail every correct server.
/// </summary>
internal sealed class CrossCheckedReference(IReferenceModel primary, Float64ReferenceModel reference) : IReferenceModel
{
    /// <summary>Both are float64 computations rounded to fp32: they may differ in the last bit of a value, no more.</summary>
    public const double Tolerance = 1e-6;

    public ModelWeights Weights => primary.Weights;

    /// <summary>The largest difference seen so far between the two.</summary>
    public double MaxDifference { get; private set; }

    public string Oracle => string.Create(
        CultureInfo.InvariantCulture, $"{primary.Oracle}, checked against the float64 reference (max |diff| {MaxDifference:E1})");

    public ForwardResult Forward(IReadOnlyList<Step> steps, RecurrentState initial)
    {
        var expected = primary.Forward(steps, initial);
        var check = reference.Forward(steps, initial);
        for (var t = 0; t < steps.Count; t++)
        {
            Compare(expected.Outputs[t], check.Outputs[t], $"output of step {t}");
        }

        Compare(expected.Final.H, check.Final.H, "h_n");
        Compare(expected.Final.C ?? [], check.Final.C ?? [], "c_n");
        return expected;
    }

    public void Dispose()
    {
        primary.Dispose();
        reference.Dispose();
    }

    private void Compare(float[] expected, float[] check, string what)
    {
        if (expected.Length != check.Length)
        {
            throw new InvalidOperationException($"{primary.Oracle} gives {expected.Length} values for {what}; the float64 reference gives {check.Length}.");
        }

        for (var i = 0; i < expected.Length; i++)
        {
            var difference = Math.Abs((double)expected[i] - check[i]);
            if (!(difference <= Tolerance))
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"{primary.Oracle} disagrees with the float64 reference of PyTorch's equations at {what}[{i}]: {expected[i]:G9} vs {check[i]:G9} " +
                    $"(|diff| {difference:E2} > {Tolerance:E0}); the recordings would depend on this machine's kernels, so nothing more is written."));
            }

            MaxDifference = Math.Max(MaxDifference, difference);
        }
    }
}
