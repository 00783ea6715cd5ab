using Streaming.Cells.Backends;

namespace Streaming.Cells.Verification;

/// <summary>A part with one path for one role (the Torch head): checked all the same, and refused when it fails.</summary>
internal sealed class SinglePath(KernelRole role, string path) : IKernelChoices
{
    private readonly string[] _paths = [path];

    /// <inheritdoc />
    public IReadOnlyList<int> StepProbeBatches => [];

    /// <inheritdoc />
    public IReadOnlyList<string> Candidates(KernelRole r) => r == role ? _paths : [];

    /// <inheritdoc />
    public void Use(KernelRole r, string p)
    {
        if (r != role || p != path)
        {
            throw new ArgumentException($"the only {role.ToString().ToLowerInvariant()} path is '{path}'; got {r.ToString().ToLowerInvariant()} '{p}'.", nameof(p));
        }
    }
}
