namespace Streaming.Client.Protocol;

/// <summary>One compute path the server's kernel check tried, as a <see cref="StatusFrame"/> carries it.</summary>
/// <param name="Layer">The recurrent layer, from 0 at the input (at most 32767); null for the head.</param>
/// <param name="Role">What the path does for the layer: <c>step</c> (batched single steps), <c>bulk</c> (whole sequences) or <c>head</c>; later servers may name other roles.</param>
/// <param name="Path">The path's name, e.g. <c>libtorch-lstm</c>, <c>addmm-cells</c>, <c>vector512</c>.</param>
/// <param name="MaxError">The largest absolute difference from the float64 reference; positive infinity for a path that failed or produced a NaN. Never NaN or negative.</param>
/// <param name="Verdict">Whether the path was rejected, passed but is not used, or serves the role.</param>
public sealed record KernelStatus(int? Layer, string Role, string Path, double MaxError, KernelVerdict Verdict)
{
    /// <summary>"layer 0 step", "layer 1 bulk", or "head".</summary>
    public string Part => Layer is { } layer ? $"layer {layer} {Role}" : Role == "head" ? "head" : $"head {Role}";
}
