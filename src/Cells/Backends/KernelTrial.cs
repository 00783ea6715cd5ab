namespace Streaming.Cells.Backends;

/// <summary>
/// One compute path tried for one role of one layer (or the head), and how far its results were from the
/// float64 transcription of PyTorch's equations on the model's own shapes.
/// </summary>
/// <param name="Layer">The recurrent layer, from 0 at the input; null for the head.</param>
/// <param name="Role">What the path does for the layer.</param>
/// <param name="Path">The path's name, e.g. <c>libtorch-lstm</c>, <c>addmm-cells</c>, <c>vector512</c>.</param>
/// <param name="MaxError">The largest absolute difference over every output and state compared; infinity when the path
/// produced a NaN or an infinity, or failed.</param>
/// <param name="Passed">Whether <paramref name="MaxError"/> is within the check's tolerance.</param>
/// <param name="Chosen">Whether the layer serves this role with this path.</param>
/// <param name="Failure">The exception's message when the path threw instead of computing; null otherwise.</param>
public sealed record KernelTrial(int? Layer, KernelRole Role, string Path, double MaxError, bool Passed, bool Chosen, string? Failure = null)
{
    /// <summary>"layer 0" or "head".</summary>
    public string Part => Layer is { } layer ? $"layer {layer}" : "head";

    /// <summary>What the path serves: "layer 0 step", "layer 1 bulk" or "head".</summary>
    public string What => Layer is { } layer ? $"layer {layer} {Role.ToString().ToLowerInvariant()}" : "head";

    /// <inheritdoc />
    public override string ToString() =>
        $"{What} {Path}: max error {KernelReport.Format(MaxError)}" +
        (Failure is null ? string.Empty : $" (failed: {Failure})") +
        (Chosen ? ", chosen" : Passed ? ", passed" : ", rejected");
}
