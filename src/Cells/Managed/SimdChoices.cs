using Streaming.Cells.Backends;
using Streaming.Cells.Verification;

namespace Streaming.Cells.Managed;

/// <summary>
/// The instruction width each role of one part (a layer, the head) runs the matrix kernel at. Candidates are the
/// widest width allowed and every narrower one, so a width that fails the kernel check falls back to the next.
/// </summary>
internal sealed class SimdChoices : IKernelChoices
{
    private readonly KernelRole[] _roles;
    private readonly string[] _candidates;
    private readonly SimdLevel[] _current;

    /// <summary>Creates the choices of a part serving <paramref name="roles"/>, each starting at <paramref name="widest"/>.</summary>
    public SimdChoices(SimdLevel widest, IReadOnlyList<int> stepProbeBatches, params KernelRole[] roles)
    {
        _roles = roles;
        _candidates = Enum.GetValues<SimdLevel>().Where(l => l <= widest).OrderDescending().Select(Name).ToArray();
        _current = roles.Select(_ => widest).ToArray();
        StepProbeBatches = stepProbeBatches;
    }

    /// <inheritdoc />
    public IReadOnlyList<int> StepProbeBatches { get; }

    /// <summary>The width <paramref name="role"/> runs at now.</summary>
    public SimdLevel this[KernelRole role] => _current[Array.IndexOf(_roles, role)];

    /// <summary>The path name of a width: <c>vector512</c>, <c>vector256</c> or <c>scalar</c>.</summary>
    public static string Name(SimdLevel level) => level.ToString().ToLowerInvariant();

    /// <inheritdoc />
    public IReadOnlyList<string> Candidates(KernelRole role) => _roles.Contains(role) ? _candidates : [];

    /// <inheritdoc />
    public void Use(KernelRole role, string path)
    {
        var index = Array.IndexOf(_roles, role);
        if (index < 0 || !_candidates.Contains(path))
        {
            throw new ArgumentException(
                $"no {role.ToString().ToLowerInvariant()} path '{path}' here; the candidates are {string.Join(", ", Candidates(role))}.", nameof(path));
        }

        _current[index] = Enum.GetValues<SimdLevel>().Single(l => Name(l) == path);
    }
}
