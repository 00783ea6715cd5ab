namespace Streaming.Cells.Backends;

/// <summary>
/// No compute path of some role passed the kernel check on this machine, so the backend refuses to serve:
/// every path it could use gives numbers that differ from PyTorch's equations. The message names the CPU,
/// the role and every path tried with its error.
/// </summary>
public sealed class KernelCheckException : Exception
{
    /// <summary>Creates the exception for <paramref name="report"/>, whose trials include the failing role's.</summary>
    public KernelCheckException(KernelReport report, string message)
        : base(message)
    {
        Report = report;
    }

    /// <summary>Creates the exception with a message only.</summary>
    public KernelCheckException(string message)
        : base(message)
    {
        Report = new KernelReport(string.Empty, string.Empty, 0, [], TimeSpan.Zero);
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public KernelCheckException(string message, Exception innerException)
        : base(message, innerException)
    {
        Report = new KernelReport(string.Empty, string.Empty, 0, [], TimeSpan.Zero);
    }

    /// <summary>Creates the exception with no detail (for serialisers).</summary>
    public KernelCheckException()
        : this("no compute path passed the kernel check")
    {
    }

    /// <summary>Every path tried before the check gave up.</summary>
    public KernelReport Report { get; }
}
