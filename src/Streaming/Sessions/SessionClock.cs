namespace Streaming.Sessions;

/// <summary>
/// The one clock of an engine's sessions: Unix milliseconds, read cheaply from the monotonic tick count plus the wall
/// clock's offset taken when the engine started. Every time the sessions keep or compare (last use, the stored last
/// use, the sweep's now) comes from it, so no two checks can disagree about one instant.
/// </summary>
internal sealed class SessionClock
{
    private readonly long _offset = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - Environment.TickCount64;

    /// <summary>Now, in Unix milliseconds.</summary>
    public long Now => _offset + Environment.TickCount64;

    /// <summary><paramref name="milliseconds"/> as a wall-clock time (what the store keeps).</summary>
    public static DateTimeOffset ToTime(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    /// <summary><paramref name="time"/> in Unix milliseconds.</summary>
    public static long ToMilliseconds(DateTimeOffset time) => time.ToUnixTimeMilliseconds();
}
