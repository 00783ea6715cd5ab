using Streaming.Client.Protocol;

namespace Streaming.Host.Server;

/// <summary>
/// Where a server hands the requests it forwarded to its engine, each with the engine's answer, to be recorded
/// (<see cref="ServerOptions.Recorder"/>). Called on connection threads, in each session's order, whatever order the
/// engine answered in; it must be thread-safe and must not block for long.
/// </summary>
public interface IRequestRecorder
{
    /// <summary>
    /// Whether requests of <paramref name="session"/> are recorded. The server asks when a Generate is read: only then does
    /// it keep the generation's steps, which it hands to <see cref="Record"/> before the end.
    /// </summary>
    bool Records(string session);

    /// <summary>
    /// Records <paramref name="request"/> and the frames that answered it; <paramref name="succeeded"/> is false when the engine
    /// refused it. For a Generate of a recorded session the frames are every GenerationStep sent, then its GenerationEnd (or
    /// the Error that ended it).
    /// </summary>
    void Record(SessionFrame request, bool succeeded, IReadOnlyList<Frame> reply);
}
