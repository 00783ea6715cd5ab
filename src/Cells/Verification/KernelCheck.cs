using System.Diagnostics;
using Streaming.Cells.Backends;
using Streaming.Cells.Weights;

namespace Streaming.Cells.Verification;

/// <summary>
/// The check every backend runs before it serves: each role of each layer (batched step, bulk run) and the head is
/// tried on the model's own shapes with its preferred path, then the next, until one agrees with the float64
/// reference within <see cref="Tolerance"/>. Native libraries can be wrong on one CPU and right on the next
/// (libtorch 2.10's oneDNN LSTM is wrong on AMD Zen 5 with AVX-512), so nothing is trusted unchecked.
/// </summary>
internal static class KernelCheck
{
    /// <summary>The largest absolute error a path may show and serve: the product's fp32 parity promise.</summary>
    public const double Tolerance = 1e-5;

    /// <summary>
    /// Checks <paramref name="backend"/>'s layers (each must implement <see cref="IKernelChoices"/>) and, when the
    /// model has one, its head through <paramref name="head"/>, and leaves every role on the first path that passed.
    /// With <paramref name="everyPath"/>, every candidate is tried (for diagnostics), and still the first that passed is used.
    /// </summary>
    /// <exception cref="KernelCheckException">No path of some role passed; the message names the CPU, the role and every path tried.</exception>
    public static KernelReport Run(IRecurrentBackend backend, ModelWeights weights, IKernelChoices? head, bool everyPath = false)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(weights);
        var watch = Stopwatch.StartNew();
        var trials = new List<KernelTrial>();
        for (var i = 0; i < backend.Layers.Count; i++)
        {
            var layer = backend.Layers[i];
            if (layer is not IKernelChoices choices)
            {
                throw new InvalidOperationException($"layer {i} of {backend.Name} offers no kernel choices; every layer must be checked before it serves.");
            }

            var reference = new Float64Layer(layer.Shape, weights.Layers[i]);
            Choose(backend, trials, i, KernelRole.Step, choices, everyPath, watch,
                () => KernelProbe.StepError(layer, reference, choices.StepProbeBatches, seed: 1000 + i));
            Choose(backend, trials, i, KernelRole.Bulk, choices, everyPath, watch,
                () => KernelProbe.BulkError(layer, reference, seed: 2000 + i));
        }

        if (head is not null && weights.HeadWeight is { } headWeight)
        {
            var matrix = new Float64Matrix(headWeight);
            var bias = weights.HeadBias is { } b ? Float64Matrix.Widen(b.Data.Span) : null;
            Choose(backend, trials, null, KernelRole.Head, head, everyPath, watch,
                () => KernelProbe.HeadError(backend, matrix, bias, seed: 3000));
        }

        return Report(backend, trials, watch);
    }

    private static void Choose(
        IRecurrentBackend backend, List<KernelTrial> trials, int? layer, KernelRole role, IKernelChoices choices, bool everyPath, Stopwatch watch, Func<double> probe)
    {
        var candidates = choices.Candidates(role);
        if (candidates.Count == 0)
        {
            return;
        }

        var first = trials.Count;
        string? chosen = null;
        foreach (var path in candidates)
        {
            choices.Use(role, path);
            double error;
            string? failure = null;
            try
            {
                error = probe();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A path that cannot run here (a missing native kernel, a device error) is a failed path, not a crash.
                error = double.PositiveInfinity;
                failure = $"{e.GetType().Name}: {e.Message}";
            }

            var passed = error <= Tolerance;
            chosen ??= passed ? path : null;
            trials.Add(new KernelTrial(layer, role, path, error, passed, Chosen: passed && chosen == path, failure));
            if (passed && !everyPath)
            {
                break;
            }
        }

        if (chosen is null)
        {
            var report = Report(backend, trials, watch);
            var tried = string.Join("; ", trials.Skip(first).Select(t => t.ToString()));
            throw new KernelCheckException(
                report,
                $"no compute path of {backend.Name} for {trials[first].What} agrees with PyTorch's equations (float64 reference, " +
                $"tolerance {KernelReport.Format(Tolerance)}) on {CpuDescription.Current}: {tried}. The backend refuses to serve numbers it cannot trust; " +
                "try the other backend, or report this CPU.");
        }

        choices.Use(role, chosen);
    }

    private static KernelReport Report(IRecurrentBackend backend, List<KernelTrial> trials, Stopwatch watch) =>
        new(backend.Name, CpuDescription.Current, Tolerance, trials.ToArray(), watch.Elapsed);
}
