namespace Streaming.Client.Protocol;

/// <summary>
/// The server's answer to a <see cref="StatusRequestFrame"/>: whether it serves session requests, and what the kernel
/// check of its backend found (each compute path tried against the float64 reference of PyTorch's equations, and the
/// one each role serves with). Unlike other frames, two Status frames are equal when their kernels are equal one by one.
/// </summary>
/// <param name="Nonce">The StatusRequest's nonce.</param>
/// <param name="Ready">Whether the server serves session requests; false for a server that is starting, stopping or not yet part of its cluster.</param>
/// <param name="Backend">The backend's name and device, e.g. <c>managed</c> or <c>torch:cpu</c>.</param>
/// <param name="Cpu">The processor the check ran on.</param>
/// <param name="CheckTime">How long the check took; it travels in whole milliseconds (0 to 4,294,967,295).</param>
/// <param name="Tolerance">The largest absolute error a path may show and still serve; finite, 0 or more.</param>
/// <param name="Kernels">Every path tried, in the order tried; at most 65,535. The frame keeps its own copy.</param>
public sealed record StatusFrame(ulong Nonce, bool Ready, string Backend, string Cpu, TimeSpan CheckTime, double Tolerance, IReadOnlyList<KernelStatus> Kernels) : Frame
{
    private readonly System.Collections.ObjectModel.ReadOnlyCollection<KernelStatus> _kernels = Copy(Kernels);

    /// <inheritdoc/>
    public override FrameType Type => FrameType.Status;

    /// <summary>Every path tried, in the order tried; at most 65,535.</summary>
    public IReadOnlyList<KernelStatus> Kernels
    {
        get => _kernels;
        init => _kernels = Copy(value);
    }

    /// <summary>The paths the server serves with, one per role of each layer (and the head).</summary>
    public IEnumerable<KernelStatus> Chosen => _kernels.Where(k => k.Verdict == KernelVerdict.Chosen);

    /// <summary>The paths that disagreed with the reference (or failed) and are not used.</summary>
    public IEnumerable<KernelStatus> Rejected => _kernels.Where(k => k.Verdict == KernelVerdict.Rejected);

    /// <summary>The largest error among the chosen paths: the worst the server serves; 0 when none is chosen.</summary>
    public double WorstError => Chosen.Select(k => k.MaxError).DefaultIfEmpty(0).Max();

    /// <inheritdoc/>
    public bool Equals(StatusFrame? other) =>
        other is not null && Nonce == other.Nonce && Ready == other.Ready && Backend == other.Backend && Cpu == other.Cpu
        && CheckTime == other.CheckTime && Tolerance.Equals(other.Tolerance) && _kernels.SequenceEqual(other._kernels);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Nonce, Ready, Backend, Cpu, CheckTime, Tolerance, _kernels.Count);

    // A copy, so that the caller's list changing later cannot change the frame.
    private static System.Collections.ObjectModel.ReadOnlyCollection<KernelStatus> Copy(IReadOnlyList<KernelStatus> kernels)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        return Array.AsReadOnly(kernels.ToArray());
    }
}
