namespace Streaming.Host.Replay;

/// <summary>The outcome of playing a recording: one check per operation.</summary>
/// <param name="Passed">Operations that behaved as recorded (outputs within tolerance, or refused when an error was expected).</param>
/// <param name="Failed">Operations that did not.</param>
/// <param name="Failures">One line per failed operation: session, line, what was expected and what came.</param>
public sealed record ReplayReport(int Passed, int Failed, IReadOnlyList<string> Failures)
{
    /// <summary>The closing line: <c>N passed, M failed</c>.</summary>
    public string Summary => $"{Passed} passed, {Failed} failed";
}
