using Streaming.Cells.Backends;

namespace Streaming.Cells.Verification;

/// <summary>
/// A layer (or a head) that can serve a role with one of several compute paths: what the kernel check chooses
/// among. Paths are named (<c>libtorch-lstm</c>, <c>addmm-cells</c>, <c>vector256</c>, ...).
/// </summary>
internal interface IKernelChoices
{
    /// <summary>
    /// The batch sizes at which the step probe runs: small ones and those where the layer's own code changes
    /// path (a library kernel's threshold, a parallel split), so every path a step may take is exercised.
    /// </summary>
    IReadOnlyList<int> StepProbeBatches { get; }

    /// <summary>The paths that can serve <paramref name="role"/>, preferred (fastest) first; empty when the role does not apply.</summary>
    IReadOnlyList<string> Candidates(KernelRole role);

    /// <summary>Serves <paramref name="role"/> with <paramref name="path"/> from now on.</summary>
    /// <exception cref="ArgumentException">The path is not one of the role's candidates.</exception>
    void Use(KernelRole role, string path);
}
