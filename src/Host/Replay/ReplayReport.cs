using System.Globalization;

namespace Streaming.Host.Replay;

/// <summary>The outcome of playing a recording: one check per operation.</summary>
/// <param name="Passed">Operations that behaved as recorded (outputs within tolerance, or refused when an error was expected).</param>
/// <param name="Failed">Operations that did not.</param>
/// <param name="Failures">One line per failed operation: session, line, what was expected and what came, and the operation's largest error.</param>
public sealed record ReplayReport(int Passed, int Failed, IReadOnlyList<string> Failures)
{
    /// <summary>The largest absolute difference between an expectation and the server's answer over the whole run (0 when nothing was compared).</summary>
    public double MaxError { get; init; }

    /// <summary>Where <see cref="MaxError"/> was seen: session and line; empty when nothing was compared.</summary>
    public string MaxErrorAt { get; init; } = string.Empty;

    /// <summary>The tolerance the recording allows.</summary>
    public double Tolerance { get; init; }

    /// <summary>The line before the summary: the largest error over the run, where, and the tolerance.</summary>
    public string Largest => MaxErrorAt.Length == 0
        ? "largest |error|: nothing compared"
        : string.Create(CultureInfo.InvariantCulture, $"largest |error|: {MaxError:E4} at {MaxErrorAt} (tolerance {Tolerance:E1})");

    /// <summary>The closing line: <c>N passed, M failed</c>.</summary>
    public string Summary => $"{Passed} passed, {Failed} failed";
}
