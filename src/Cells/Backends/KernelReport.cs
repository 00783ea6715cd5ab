using System.Globalization;

namespace Streaming.Cells.Backends;

/// <summary>
/// What the kernel check found when a backend was created: every path tried for every role of every layer
/// (and the head), which one each role serves with, and how far each was from the float64 reference.
/// </summary>
/// <param name="Backend">The backend's name and device, e.g. <c>managed</c> or <c>torch:cpu</c>.</param>
/// <param name="Cpu">The processor the check ran on (model, family, the vector extensions that matter).</param>
/// <param name="Tolerance">The largest absolute error a path may show and still serve.</param>
/// <param name="Trials">Every path tried, in the order tried.</param>
/// <param name="Duration">How long the whole check took.</param>
public sealed record KernelReport(string Backend, string Cpu, double Tolerance, IReadOnlyList<KernelTrial> Trials, TimeSpan Duration)
{
    /// <summary>The paths the backend serves with, one per role of each layer (and the head).</summary>
    public IEnumerable<KernelTrial> Chosen => Trials.Where(t => t.Chosen);

    /// <summary>The paths that disagreed with the reference (or failed) and are not used.</summary>
    public IEnumerable<KernelTrial> Rejected => Trials.Where(t => !t.Passed);

    /// <summary>The largest error among the chosen paths: the worst the backend serves.</summary>
    public double WorstError => Chosen.Select(t => t.MaxError).DefaultIfEmpty(0).Max();

    /// <summary>One line naming each chosen path with its error, the worst error, the time taken and the CPU.</summary>
    public string Summary =>
        $"{Backend}: " + string.Join(", ", Chosen.Select(t => $"{t.What} {t.Path} ({Format(t.MaxError)})")) +
        $"; worst error {Format(WorstError)} (tolerance {Format(Tolerance)}); checked in {Duration.TotalMilliseconds:0} ms on {Cpu}";

    /// <summary>One warning per rejected path: the CPU, the failing path, the error seen and the path chosen instead.</summary>
    public IEnumerable<string> Warnings => Rejected.Select(Warning);

    /// <summary>The error as the logs print it: three significant digits, exponent form.</summary>
    public static string Format(double error) =>
        double.IsFinite(error) ? error.ToString("0.00e+0", CultureInfo.InvariantCulture) : "infinite";

    private string Warning(KernelTrial rejected)
    {
        var instead = Chosen.FirstOrDefault(t => t.Layer == rejected.Layer && t.Role == rejected.Role);
        var what = rejected.Failure is null
            ? $"disagrees with the float64 reference by {Format(rejected.MaxError)} (tolerance {Format(Tolerance)})"
            : $"failed: {rejected.Failure}";
        var replacement = instead is null
            ? "no other path passed"
            : $"using {instead.Path} instead (max error {Format(instead.MaxError)})";
        return $"kernel check on {Cpu}: {rejected.What} path {rejected.Path} of {Backend} {what}; {replacement}.{Hint(rejected)}";
    }

    // libtorch runs its CPU LSTM with oneDNN, whose AVX-512 LSTM is the fault that led to the check; oneDNN reads its
    // instruction-set cap once, from the native environment, so only the operator can set it, before the process starts.
    private string Hint(KernelTrial rejected) =>
        Backend == "torch:cpu" && rejected.Path.Contains("libtorch-lstm", StringComparison.Ordinal)
            && Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") is null
            ? " libtorch's CPU LSTM is oneDNN's; starting the process with ONEDNN_MAX_CPU_ISA=AVX2 in its environment avoids the fault of its AVX-512 LSTM (libtorch 2.10 on AMD Zen 5) and keeps the faster kernel."
            : string.Empty;
}
