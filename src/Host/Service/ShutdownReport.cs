namespace Streaming.Host.Service;

/// <summary>What a graceful stop could not do, told by <c>serve</c>'s last log line and its exit code.</summary>
internal sealed class ShutdownReport
{
    /// <summary>The exit code of a stop that could not save every session (the store kept failing).</summary>
    public const int UnsavedExitCode = 3;

    private int _unsaved;

    /// <summary>Sessions that left without their latest state: hand-offs past their deadline and saves at shutdown the store refused.</summary>
    public int UnsavedSessions => Volatile.Read(ref _unsaved);

    public void Unsaved(int sessions) => Interlocked.Add(ref _unsaved, sessions);
}
