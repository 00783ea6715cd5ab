using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>
/// Where a server hands the requests it forwarded to its engine, each with the engine's answer, to be recorded
/// (<see cref="ServerOptions.Recorder"/>). Called on connection threads, in each session's order, whatever order the
/// engine answered in; it must be thread-safe and must not block for long.
/// </summary>
public interface IRequestRecorder
{
    /// <summary>Records <paramref name="request"/> and the frames that answered it; <paramref name="succeeded"/> is false when the engine refused it.</summary>
    void Record(SessionFrame request, bool succeeded, IReadOnlyList<Frame> reply);
}
