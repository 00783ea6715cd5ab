namespace Streaming.Host.Server;

/// <summary>
/// What tests observe inside a running server, passed to the internal <see cref="StreamingServer"/> start; production
/// starts pass none. Each callback runs on the connection's stage thread.
/// </summary>
internal sealed class ServerProbes
{
    /// <summary>Called with each connection stage's logic when it starts (a test keeps a weak reference to see it freed).</summary>
    public Action<object>? ConnectionStarted { get; init; }
}
